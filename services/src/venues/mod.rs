//! Venue use cases: creation (one admin, one venue, a venue code), weekly-limited edits,
//! handover, inspector bindings, scans of a citizen's code, temperature checks, posters and
//! quick check-ins, and the statistics.

use commands::{CommandContext, Decision, Outcome};
use domain::access::{AccessEvent, AccessedData, Accessor};
use domain::claim::{Claim, ClaimCommand, ClaimState};
use domain::code::CodeKind;
use domain::demographics::{Demographics, Sex};
use domain::document::{mask_name, Document, MobilePhone};
use domain::health::Band;
use domain::health_code::Colour;
use domain::identity::{PersonId, RedReason};
use domain::venue::{
    parse_town, CheckInEvent, Inspection, InspectionCommand, InspectionError, InspectionState,
    Scan, ScanCommand, ScanError, ScanState, Venue, VenueAddress, VenueChanges, VenueCommand,
    VenueDetails, VenueError, VenueId, VenueName, VenueState, VenueType,
};
use domain::{Decider, DomainEvent};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::error::ServiceError;
use crate::orgs::parse_code;
use crate::page::{Page, PageRequest};
use crate::streams;
use crate::support::{collect, seal_phone, Done};
use crate::Services;

fn internal(e: impl Into<anyhow::Error>) -> ServiceError {
    ServiceError::internal(e)
}

use crate::support::fold;

/// The venue's state from its stream: `404 venue.unknown` when there is none.
pub async fn venue_state(services: &Services, venue: VenueId) -> Result<VenueState, ServiceError> {
    match fold::<Venue>(services, &streams::venue(venue)).await? {
        VenueState::Absent => Err(ServiceError::not_found(
            "venue.unknown",
            format!("no venue {venue}"),
        )),
        active @ VenueState::Active { .. } => Ok(active),
    }
}

/// The venue's admin: `404` for an unknown venue.
pub async fn admin_of(services: &Services, venue: VenueId) -> Result<PersonId, ServiceError> {
    venue_state(services, venue)
        .await?
        .admin()
        .ok_or_else(|| ServiceError::not_found("venue.unknown", "no such venue"))
}

/// Whether `person` is bound to `venue` as an inspector now (from the binding's stream).
pub async fn is_inspector(
    services: &Services,
    venue: VenueId,
    person: PersonId,
) -> Result<bool, ServiceError> {
    Ok(matches!(
        fold::<Inspection>(services, &streams::inspection(venue, person)).await?,
        InspectionState::Bound { .. }
    ))
}

/// A venue as sent.
#[derive(Debug, Clone, Deserialize)]
pub struct VenueInput {
    /// A town-level division code of Guangdong (9 digits).
    pub region: String,
    pub address: String,
    /// `residential`, `office`, `retail`, `dining`, `lodging`, `entertainment`, `sports`,
    /// `transport` or `other`.
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    /// The admin's mobile phone.
    pub phone: String,
}

/// An edit as sent: any of the fields.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct VenuePatch {
    pub region: Option<String>,
    pub address: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
}

/// The answer to a creation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VenueCreated {
    pub venue_id: Uuid,
    pub code: String,
}

/// Creates a venue administered by `admin` (whose key seals the phone).
pub async fn create(
    services: &Services,
    ctx: &CommandContext,
    admin: PersonId,
    input: &VenueInput,
) -> Result<Outcome<VenueCreated>, ServiceError> {
    let mut errors = Vec::new();
    let region = collect(parse_town(&input.region), &mut errors);
    let address = collect(VenueAddress::parse(&input.address), &mut errors);
    let kind = collect(VenueType::parse(&input.kind), &mut errors);
    let name = collect(VenueName::parse(&input.name), &mut errors);
    let phone = collect(MobilePhone::parse(&input.phone), &mut errors);
    let (Some(region), Some(address), Some(kind), Some(name), Some(phone)) =
        (region, address, kind, name, phone)
    else {
        return Err(errors.into());
    };
    let details = VenueDetails {
        region,
        address,
        kind,
        name,
        phone: seal_phone(
            &services.vault,
            &crate::citizens::subject_of(services, admin).await?,
            &phone,
        )
        .await?,
    };
    let now = services.now();
    let venue_id = VenueId::new(Uuid::now_v7());
    crate::support::create_with_code(
        services,
        ctx,
        streams::venue_admin(admin),
        venue_id.as_uuid(),
        CodeKind::Venue,
        crate::support::AdminHasOne {
            code: "venue.admin_has_venue",
            noun: "venue",
            id_field: "venue_id",
        },
        |code| {
            let events = Venue::decide(
                &VenueCommand::Create {
                    venue_id,
                    admin,
                    code,
                    details: details.clone(),
                    at: now,
                },
                &Venue::initial(),
            )
            .map_err(|e| ServiceError::conflict("venue.exists", e.to_string()))?
            .iter()
            .map(DomainEvent::encode)
            .collect::<Result<Vec<_>, _>>()
            .map_err(internal)?;
            Ok((
                streams::venue(venue_id),
                events,
                VenueCreated {
                    venue_id: venue_id.as_uuid(),
                    code: code.to_string(),
                },
            ))
        },
    )
    .await
}

fn venue_error(e: VenueError) -> ServiceError {
    match e {
        VenueError::Unknown => ServiceError::not_found("venue.unknown", e.to_string()),
        VenueError::NotAdmin => ServiceError::Forbidden(e.to_string()),
        VenueError::NothingToChange => {
            ServiceError::invalid("body", "venue.nothing_to_change", e.to_string())
        }
        VenueError::AlreadyCreated => ServiceError::conflict("venue.exists", e.to_string()),
        VenueError::SuccessorIsAdmin => {
            ServiceError::conflict("venue.successor_is_admin", e.to_string())
        }
        VenueError::WeeklyEditLimit { next_allowed_at } => crate::support::weekly_edit_limit(
            "venue.weekly_edit_limit",
            e.to_string(),
            next_allowed_at,
        ),
    }
}

/// Edits a venue's details (its admin only, once per natural week).
pub async fn edit(
    services: &Services,
    ctx: &CommandContext,
    by: PersonId,
    venue_id: VenueId,
    patch: &VenuePatch,
) -> Result<Outcome<Done>, ServiceError> {
    let mut errors = Vec::new();
    let region = patch
        .region
        .as_deref()
        .and_then(|r| collect(parse_town(r), &mut errors));
    let address = patch
        .address
        .as_deref()
        .and_then(|a| collect(VenueAddress::parse(a), &mut errors));
    let kind = patch
        .kind
        .as_deref()
        .and_then(|k| collect(VenueType::parse(k), &mut errors));
    let name = patch
        .name
        .as_deref()
        .and_then(|n| collect(VenueName::parse(n), &mut errors));
    let phone = patch
        .phone
        .as_deref()
        .and_then(|p| collect(MobilePhone::parse(p), &mut errors));
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let phone = match phone {
        Some(p) => Some(
            seal_phone(
                &services.vault,
                &crate::citizens::subject_of(services, by).await?,
                &p,
            )
            .await?,
        ),
        None => None,
    };
    let now = services.now();
    services
        .bus
        .decide::<Venue, _>(
            ctx,
            streams::venue(venue_id),
            &VenueCommand::Edit {
                by,
                changes: VenueChanges {
                    region,
                    address,
                    kind,
                    name,
                    phone,
                },
                at: now,
            },
            |_| Done {},
        )
        .await
        .map_err(|e| ServiceError::from(e.map_rejected(venue_error)))
}

/// Hands the venue over to the registered person holding `successor`'s document: the old
/// admin's claim is released and the successor's taken in one append.
pub async fn hand_over(
    services: &Services,
    ctx: &CommandContext,
    by: PersonId,
    venue_id: VenueId,
    doc_type: &str,
    doc_number: &str,
) -> Result<Outcome<Done>, ServiceError> {
    let now = services.now();
    let document =
        Document::parse(doc_type, doc_number, domain::week::today(now)).map_err(|e| {
            ServiceError::invalid(
                format!("successor.{}", e.field.trim_start_matches("document.")),
                e.code,
                e.detail,
            )
        })?;
    let digest = crate::citizens::digest_of(&services.keys, &document)?;
    let successor = fold::<domain::identity::Identity>(services, &streams::identity(&digest))
        .await?
        .person_id()
        .ok_or_else(|| {
            ServiceError::not_found(
                "person.unknown",
                "nobody has registered with this document; the successor logs in once first",
            )
        })?;
    let v_stream = streams::venue(venue_id);
    let old_claim = streams::venue_admin(by);
    let new_claim = streams::venue_admin(successor);
    let streams = [v_stream.clone(), old_claim.clone(), new_claim.clone()];
    Ok(services
        .bus
        .execute(ctx, &streams, |loaded| {
            let venue = loaded.fold::<Venue>(&v_stream).map_err(internal)?;
            let handed = Venue::decide(
                &VenueCommand::HandOver {
                    by,
                    successor,
                    at: now,
                },
                &venue,
            )
            .map_err(venue_error)?;
            let released = Claim::decide(
                &ClaimCommand::Release { at: now },
                &loaded.fold::<Claim>(&old_claim).map_err(internal)?,
            )
            .map_err(|e| internal(anyhow::anyhow!("the admin's claim is inconsistent: {e}")))?;
            let taken = Claim::decide(
                &ClaimCommand::Take {
                    holder: venue_id.as_uuid(),
                    at: now,
                },
                &loaded.fold::<Claim>(&new_claim).map_err(internal)?,
            )
            .map_err(|_| {
                ServiceError::conflict(
                    "venue.successor_has_venue",
                    "the successor already administers a venue; one admin has at most one venue",
                )
            })?;
            Decision::unchanged(Done {})
                .append(v_stream.clone(), &handed)
                .map_err(internal)?
                .append(old_claim.clone(), &released)
                .map_err(internal)?
                .append(new_claim.clone(), &taken)
                .map_err(internal)
        })
        .await?)
}

/// The venue a venue code belongs to.
pub async fn venue_of_code(services: &Services, raw: &str) -> Result<VenueId, ServiceError> {
    let code = parse_code(raw, CodeKind::Venue)?;
    match fold::<Claim>(services, &streams::code(&code)).await? {
        ClaimState::Held { holder } => Ok(VenueId::new(holder)),
        ClaimState::Free => Err(ServiceError::not_found(
            "venue.unknown_code",
            format!("no venue has the code {code}"),
        )),
    }
}

/// The answer to a binding.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bound {
    pub venue_id: Uuid,
}

fn inspection_error(e: InspectionError) -> ServiceError {
    match e {
        InspectionError::NotBound => ServiceError::not_found("venue.not_bound", e.to_string()),
    }
}

/// Binds `inspector` to the venue of `code` (binding twice changes nothing).
pub async fn bind(
    services: &Services,
    ctx: &CommandContext,
    inspector: PersonId,
    code: &str,
) -> Result<Outcome<Bound>, ServiceError> {
    let venue_id = venue_of_code(services, code).await?;
    let now = services.now();
    services
        .bus
        .decide::<Inspection, _>(
            ctx,
            streams::inspection(venue_id, inspector),
            &InspectionCommand::Bind {
                venue_id,
                inspector,
                at: now,
            },
            |_| Bound {
                venue_id: venue_id.as_uuid(),
            },
        )
        .await
        .map_err(|e| ServiceError::from(e.map_rejected(inspection_error)))
}

/// Unbinds `inspector` from `venue_id`: by the inspector themself, or by the venue's admin
/// (checked on the venue's stream at commit, so a handover racing it wins).
pub async fn unbind(
    services: &Services,
    ctx: &CommandContext,
    by: PersonId,
    venue_id: VenueId,
    inspector: PersonId,
) -> Result<Outcome<Done>, ServiceError> {
    let now = services.now();
    let i_stream = streams::inspection(venue_id, inspector);
    let v_stream = streams::venue(venue_id);
    let streams = if by == inspector {
        vec![i_stream.clone()]
    } else {
        vec![i_stream.clone(), v_stream.clone()]
    };
    Ok(services
        .bus
        .execute(ctx, &streams, |loaded| {
            let mut checks = Vec::new();
            if by != inspector {
                let venue = loaded.fold::<Venue>(&v_stream).map_err(internal)?;
                match venue.admin() {
                    None => return Err(ServiceError::not_found("venue.unknown", "no such venue")),
                    Some(admin) if admin != by => {
                        return Err(ServiceError::Forbidden(
                            "only the venue's admin unbinds inspectors".into(),
                        ))
                    }
                    Some(_) => checks.push(v_stream.clone()),
                }
            }
            let state = loaded.fold::<Inspection>(&i_stream).map_err(internal)?;
            let events = Inspection::decide(&InspectionCommand::Unbind { by, at: now }, &state)
                .map_err(inspection_error)?;
            let mut decision = Decision::unchanged(Done {})
                .append(i_stream.clone(), &events)
                .map_err(internal)?;
            for c in checks {
                decision = decision.check(c);
            }
            Ok(decision)
        })
        .await?)
}

/// Whether `subject` is `actor` or a member of `actor`'s family (from the member's stream).
pub async fn may_act_for(
    services: &Services,
    actor: PersonId,
    subject: PersonId,
) -> Result<bool, ServiceError> {
    if actor == subject {
        return Ok(true);
    }
    Ok(
        match fold::<domain::person::Person>(services, &streams::person(subject)).await? {
            domain::person::PersonState::Active { guardians, .. } => guardians.contains(&actor),
            domain::person::PersonState::Absent => false,
        },
    )
}

/// Sex and age band on `day`, from the person's read-model row.
pub fn demographics(row: &projections::people::PersonRow, day: Date) -> Demographics {
    let sex = row.sex.as_deref().and_then(Sex::parse);
    let birth_date = row.birth_date.as_deref().and_then(|b| {
        Date::parse(b, time::macros::format_description!("[year]-[month]-[day]")).ok()
    });
    Demographics::on(sex, birth_date, day)
}

/// What a scanner sees.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScanAnswer {
    pub scan_id: Uuid,
    pub person_id: Uuid,
    /// `张*强`
    pub name_masked: String,
    /// `139****5678`, empty when unknown
    pub phone_masked: String,
    /// `green` or `red`
    pub colour: String,
    /// The active red reasons' labels.
    pub reason_labels: Vec<String>,
}

/// Records a scan of `subject`'s code at `venue_id` by `inspector` (who must be bound
/// there, checked at commit), with the access record the subject sees.
pub async fn record_scan(
    services: &Services,
    ctx: &CommandContext,
    venue_id: VenueId,
    inspector: PersonId,
    subject: PersonId,
    answer: ScanAnswer,
) -> Result<Outcome<ScanAnswer>, ServiceError> {
    let now = services.now();
    let i_stream = streams::inspection(venue_id, inspector);
    let s_stream = streams::scan(answer.scan_id);
    let a_stream = streams::access(subject);
    let streams = [i_stream.clone()];
    Ok(services
        .bus
        .execute(ctx, &streams, |loaded| {
            let bound = matches!(
                loaded.fold::<Inspection>(&i_stream).map_err(internal)?,
                InspectionState::Bound { .. }
            );
            if !bound {
                return Err(ServiceError::Forbidden(format!(
                    "only inspectors bound to venue {venue_id} scan there"
                )));
            }
            let scanned = Scan::decide(
                &ScanCommand::Scan {
                    scan_id: answer.scan_id,
                    venue_id,
                    inspector,
                    subject,
                    at: now,
                },
                &Scan::initial(),
            )
            .map_err(|e| ServiceError::conflict("scan.exists", e.to_string()))?;
            let accessed = AccessEvent::PersonalDataAccessed {
                accessor: Accessor::Venue {
                    venue_id: venue_id.as_uuid(),
                    person_id: inspector,
                },
                data: AccessedData::Code,
                at: now,
            };
            Ok(Decision::unchanged(answer.clone())
                .append(s_stream.clone(), &scanned)
                .map_err(internal)?
                .append(a_stream.clone(), &[accessed])
                .map_err(internal)?
                .check(i_stream.clone()))
        })
        .await?)
}

fn scan_error(e: ScanError) -> ServiceError {
    match e {
        ScanError::Unknown => ServiceError::not_found("scan.unknown", e.to_string()),
        ScanError::NotTheScanner => ServiceError::Forbidden(e.to_string()),
        ScanError::AlreadyScanned => ServiceError::conflict("scan.exists", e.to_string()),
        ScanError::OtherVenue => ServiceError::conflict("scan.other_venue", e.to_string()),
        ScanError::Expired => ServiceError::conflict("scan.expired", e.to_string()),
        ScanError::AlreadyChecked => {
            ServiceError::conflict("check.already_recorded", e.to_string())
        }
    }
}

/// The scan's state: `404 scan.unknown` when there is none.
pub async fn scan_state(services: &Services, scan_id: Uuid) -> Result<ScanState, ServiceError> {
    match fold::<Scan>(services, &streams::scan(scan_id)).await? {
        ScanState::Absent => Err(ServiceError::not_found("scan.unknown", "no such scan")),
        state => Ok(state),
    }
}

/// The answer to a check.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checked {
    pub check_id: Uuid,
}

/// Records the band of the person scanned by `scan_id` (the same inspector, still bound to
/// the venue at commit, the same venue, within 30 minutes, once per scan).
pub async fn check(
    services: &Services,
    ctx: &CommandContext,
    venue_id: VenueId,
    inspector: PersonId,
    scan_id: Uuid,
    band: Band,
    demographics: Demographics,
) -> Result<Outcome<Checked>, ServiceError> {
    let now = services.now();
    let check_id = Uuid::now_v7();
    let s_stream = streams::scan(scan_id);
    let i_stream = streams::inspection(venue_id, inspector);
    let streams = [s_stream.clone(), i_stream.clone()];
    Ok(services
        .bus
        .execute(ctx, &streams, |loaded| {
            let bound = matches!(
                loaded.fold::<Inspection>(&i_stream).map_err(internal)?,
                InspectionState::Bound { .. }
            );
            if !bound {
                return Err(ServiceError::Forbidden(format!(
                    "only inspectors bound to venue {venue_id} record checks there"
                )));
            }
            let scan = loaded.fold::<Scan>(&s_stream).map_err(internal)?;
            let events = Scan::decide(
                &ScanCommand::Check {
                    check_id,
                    venue_id,
                    inspector,
                    band,
                    demographics,
                    at: now,
                },
                &scan,
            )
            .map_err(scan_error)?;
            Ok(Decision::unchanged(Checked { check_id })
                .append(s_stream.clone(), &events)
                .map_err(internal)?
                .check(i_stream.clone()))
        })
        .await?)
}

/// The answer to a quick check-in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckedIn {
    pub check_id: Uuid,
    pub venue_name: String,
}

/// A quick check-in with a venue's poster (`poster_token`), band normal, for the actor or
/// (`subject_id`) a member of their family. One pass: the venue's and the subject's streams
/// are read once, inside the decision, and a guardian's right is checked at commit.
pub async fn check_in(
    services: &Services,
    ctx: &CommandContext,
    actor: PersonId,
    poster_token: &str,
    subject_id: Option<Uuid>,
) -> Result<Outcome<CheckedIn>, ServiceError> {
    let venue_id = services
        .keys
        .code_keys
        .verify_poster(poster_token)
        .map(VenueId::new)
        .map_err(|e| refused_token("poster_token", e))?;
    let subject = subject_id.map_or(actor, PersonId::new);
    // The subject's registration facts (sex, birth date) never change: read from the read
    // model; a missing person is refused only after who may act for them.
    let row = crate::citizens::person_row_if_any(services, subject).await?;
    let now = services.now();
    let day = domain::week::today(now);
    let check_id = Uuid::now_v7();
    let v_stream = streams::venue(venue_id);
    let p_stream = streams::person(subject);
    let mut loaded_streams = vec![v_stream.clone()];
    if subject != actor {
        loaded_streams.push(p_stream.clone());
    }
    Ok(services
        .bus
        .execute(ctx, &loaded_streams, |loaded| {
            let venue = loaded.fold::<Venue>(&v_stream)?;
            let VenueState::Active { .. } = venue else {
                return Err(ServiceError::not_found(
                    "venue.unknown",
                    format!("no venue {venue_id}"),
                ));
            };
            let venue_name = venue
                .name()
                .map(|n| n.as_str().to_owned())
                .unwrap_or_default();
            let mut decision = Decision::unchanged(CheckedIn {
                check_id,
                venue_name,
            });
            if subject != actor {
                let guardian = match loaded.fold::<domain::person::Person>(&p_stream)? {
                    domain::person::PersonState::Active { guardians, .. } => {
                        guardians.contains(&actor)
                    }
                    domain::person::PersonState::Absent => false,
                };
                if !guardian {
                    return Err(ServiceError::Forbidden(
                        "you may check in only yourself or a member of your family".into(),
                    ));
                }
                decision = decision.check(p_stream.clone());
            }
            let Some(row) = &row else {
                return Err(ServiceError::not_found(
                    "person.unknown",
                    format!("no person {subject}"),
                ));
            };
            Ok(decision.append(
                streams::check_in(check_id),
                &[CheckInEvent::CheckedIn {
                    check_id,
                    venue_id,
                    subject,
                    by: actor,
                    demographics: demographics(row, day),
                    at: now,
                }],
            )?)
        })
        .await?)
}

/// Whether `at` is within the validity of a scan made at `scanned`.
pub fn scan_valid(scanned: OffsetDateTime, at: OffsetDateTime) -> bool {
    at - scanned <= domain::venue::SCAN_VALIDITY
}

/// A venue named by a path segment: `404 venue.unknown` when it is no venue id.
pub fn venue_id(raw: &str) -> Result<VenueId, ServiceError> {
    Uuid::parse_str(raw)
        .map(VenueId::new)
        .map_err(|_| ServiceError::not_found("venue.unknown", format!("no venue {raw:?}")))
}

/// The venue named by `raw` when `person` administers it: `404` for no such venue, `403`
/// with `refusal` for anyone else.
pub async fn authorize_admin(
    services: &Services,
    raw: &str,
    person: PersonId,
    refusal: &str,
) -> Result<VenueId, ServiceError> {
    let venue = venue_id(raw)?;
    if admin_of(services, venue).await? != person {
        return Err(ServiceError::Forbidden(refusal.into()));
    }
    Ok(venue)
}

/// A token or poster that fails verification: `422` naming `field`, its rule as the code.
fn refused_token(field: &str, e: crypto::code_token::CodeTokenError) -> ServiceError {
    ServiceError::invalid_with_code(field, e.code(), e.to_string())
}

/// Where a scan happens, as the scanner says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanPlace {
    pub venue_id: Option<Uuid>,
    pub grid_id: Option<Uuid>,
    pub medical: bool,
}

/// Scans a citizen's code (`token`, the signed QR payload): the scanner sees the masked name
/// and phone, the colour and the reason labels; the access is recorded in the citizen's
/// access log. Only an inspector bound to the venue scans there (checked at commit).
pub async fn scan(
    services: &Services,
    ctx: &CommandContext,
    scanner: PersonId,
    token: &str,
    place: ScanPlace,
) -> Result<Outcome<ScanAnswer>, ServiceError> {
    let subject = services
        .keys
        .code_keys
        .verify(token)
        .map(PersonId::new)
        .map_err(|e| refused_token("token", e))?;
    let venue_id = match (place.venue_id, place.grid_id, place.medical) {
        (Some(v), None, false) => VenueId::new(v),
        (None, Some(_), false) | (None, None, true) => {
            // Grid workers and medical staff get their rights with the grids and medical
            // issues; until then nobody holds them.
            return Err(ServiceError::Forbidden(
                "you are not an authorised grid worker or medical staff".into(),
            ));
        }
        _ => {
            return Err(ServiceError::invalid(
                "context",
                "scan.context",
                "context is one of {\"venue_id\"}, {\"grid_id\"} or {\"medical\": true}",
            ))
        }
    };
    let row = crate::citizens::person_row(services, subject).await?;
    let reasons = projections::health_codes::reasons(&services.db, &row.digest)
        .await
        .map_err(ServiceError::internal)?;
    let profile =
        crate::citizens::open_profile(services, &row.digest, row.profile.as_deref()).await?;
    let reasons: Vec<RedReason> = reasons
        .iter()
        .filter_map(|r| RedReason::parse(&r.reason))
        .collect();
    let answer = ScanAnswer {
        scan_id: Uuid::now_v7(),
        person_id: subject.as_uuid(),
        name_masked: profile
            .as_ref()
            .map(|p| mask_name(&p.name))
            .unwrap_or_default(),
        phone_masked: profile
            .as_ref()
            .and_then(|p| p.phone.as_deref())
            .and_then(|p| MobilePhone::parse(p).ok())
            .map(|p| p.masked())
            .unwrap_or_default(),
        colour: Colour::of(&reasons).as_str().into(),
        reason_labels: reasons.iter().map(|r| r.label().to_owned()).collect(),
    };
    record_scan(services, ctx, venue_id, scanner, subject, answer).await
}

/// The latest health declaration of the person a scan names, health facts only: to the
/// scanner, still bound to the venue, within 30 minutes of the scan. The access is recorded.
pub async fn scanned_declaration(
    services: &Services,
    scanner: PersonId,
    scan_id: &str,
) -> Result<serde_json::Value, ServiceError> {
    let scan_id = Uuid::parse_str(scan_id)
        .map_err(|_| ServiceError::not_found("scan.unknown", "no such scan"))?;
    let scan = scan_state(services, scan_id).await?;
    let Some((venue_id, inspector, subject, at)) = scan.scanned() else {
        return Err(ServiceError::not_found("scan.unknown", "no such scan"));
    };
    if inspector != scanner || !is_inspector(services, venue_id, scanner).await? {
        return Err(ServiceError::Forbidden(
            "only the inspector who scanned sees this".into(),
        ));
    }
    if !scan_valid(at, services.now()) {
        return Err(ServiceError::conflict(
            "scan.expired",
            "the scan is older than 30 minutes; scan the code again",
        ));
    }
    let page = projections::histories::page(
        &services.db,
        &subject.to_string(),
        projections::histories::HistoryKind::Declarations,
        None,
        1,
    )
    .await
    .map_err(ServiceError::internal)?;
    let Some(mut latest) = page.items.into_iter().next() else {
        return Err(ServiceError::not_found(
            "declaration.none",
            "this person has filed no health declaration",
        ));
    };
    crate::citizens::record_access(
        services,
        &crate::auth::person_actor(scanner),
        subject,
        Accessor::Venue {
            venue_id: venue_id.as_uuid(),
            person_id: scanner,
        },
        AccessedData::Declarations,
    )
    .await?;
    // The health facts only: not the organisation declared for, nor who filed it.
    if let Some(fields) = latest.as_object_mut() {
        fields.remove("org_id");
        fields.remove("filed_by");
    }
    Ok(latest)
}

/// Checks that `inspector` may record checks at the venue named by `raw` (the venue exists,
/// they are bound to it): what a check refuses before reading its body.
pub async fn authorize_checker(
    services: &Services,
    raw: &str,
    inspector: PersonId,
) -> Result<VenueId, ServiceError> {
    let venue_id = venue_id(raw)?;
    venue_state(services, venue_id).await?;
    if !is_inspector(services, venue_id, inspector).await? {
        return Err(ServiceError::Forbidden(format!(
            "only inspectors bound to venue {venue_id} record checks there"
        )));
    }
    Ok(venue_id)
}

/// Records the band (`normal` or `fever`) of the person scanned by `scan_id` at `venue_id`.
pub async fn record_check(
    services: &Services,
    ctx: &CommandContext,
    venue_id: VenueId,
    inspector: PersonId,
    scan_id: Uuid,
    band: &str,
) -> Result<Outcome<Checked>, ServiceError> {
    let band = Band::parse(band, "band")?;
    let scan = scan_state(services, scan_id).await?;
    let Some((_, _, subject, _)) = scan.scanned() else {
        return Err(ServiceError::not_found("scan.unknown", "no such scan"));
    };
    let row = crate::citizens::person_row(services, subject).await?;
    let demographics = demographics(&row, domain::week::today(services.now()));
    check(
        services,
        ctx,
        venue_id,
        inspector,
        scan_id,
        band,
        demographics,
    )
    .await
}

/// The venue's poster token (葵花码), for its admin and bound inspectors.
pub async fn poster(
    services: &Services,
    person: PersonId,
    raw: &str,
) -> Result<String, ServiceError> {
    let venue_id = venue_id(raw)?;
    let admin = admin_of(services, venue_id).await?;
    if admin != person && !is_inspector(services, venue_id, person).await? {
        return Err(ServiceError::Forbidden(
            "the poster is for the venue's admin and bound inspectors".into(),
        ));
    }
    Ok(services.keys.code_keys.sign_poster(venue_id.as_uuid()))
}

/// A read model's unix seconds as an instant.
fn unix(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A venue an inspector is bound to.
#[derive(Debug, Clone)]
pub struct InspectedVenue {
    pub venue_id: String,
    pub name: String,
    pub code: String,
    pub region: String,
    pub kind: String,
    pub bound_at: OffsetDateTime,
}

/// The venues `person` inspects, oldest binding first.
pub async fn my_venues(
    services: &Services,
    person: PersonId,
    page: PageRequest,
) -> Result<Page<InspectedVenue>, ServiceError> {
    let rows = projections::venues::of_inspector(&services.db, &person.to_string())
        .await
        .map_err(ServiceError::internal)?;
    Ok(page.slice(rows).map(|r| InspectedVenue {
        bound_at: unix(r.bound_at),
        venue_id: r.venue_id,
        name: r.name,
        code: r.code,
        region: r.region,
        kind: r.venue_type,
    }))
}

/// A venue as its admin sees it.
#[derive(Debug, Clone)]
pub struct VenueForAdmin {
    pub venue_id: String,
    pub name: String,
    pub region: String,
    pub kind: String,
    pub address: String,
    pub code: String,
    pub created_at: OffsetDateTime,
}

/// The venue as its admin sees it, with the code to share.
pub async fn show(
    services: &Services,
    person: PersonId,
    raw: &str,
) -> Result<VenueForAdmin, ServiceError> {
    let venue_id = authorize_admin(
        services,
        raw,
        person,
        "only the venue's admin sees its details",
    )
    .await?;
    let v = projections::venues::venue(&services.db, &venue_id.to_string())
        .await
        .map_err(ServiceError::internal)?
        .ok_or_else(|| ServiceError::not_found("venue.unknown", "no such venue"))?;
    Ok(VenueForAdmin {
        created_at: unix(v.created_at),
        venue_id: v.venue_id,
        name: v.name,
        region: v.region,
        kind: v.venue_type,
        address: v.address,
        code: v.code,
    })
}

/// An inspector of a venue, name masked.
#[derive(Debug, Clone)]
pub struct VenueInspector {
    pub person_id: String,
    pub name_masked: String,
    pub bound_at: OffsetDateTime,
}

/// The venue's inspectors (admin only), names masked, oldest binding first.
pub async fn inspectors(
    services: &Services,
    person: PersonId,
    raw: &str,
    page: PageRequest,
) -> Result<Page<VenueInspector>, ServiceError> {
    let venue_id = authorize_admin(
        services,
        raw,
        person,
        "only the venue's admin lists its inspectors",
    )
    .await?;
    let rows = projections::venues::inspectors(&services.db, &venue_id.to_string())
        .await
        .map_err(ServiceError::internal)?;
    let page = page.slice(rows);
    let mut items = Vec::with_capacity(page.items.len());
    for r in page.items {
        let id = PersonId::parse(&r.person_id).ok_or_else(|| {
            ServiceError::internal(anyhow::anyhow!("bad person id in read model"))
        })?;
        let row = crate::citizens::person_row(services, id).await?;
        items.push(VenueInspector {
            name_masked: crate::citizens::masked_name(
                services,
                &row.digest,
                row.profile.as_deref(),
            )
            .await?,
            bound_at: unix(r.bound_at),
            person_id: r.person_id,
        });
    }
    Ok(Page {
        items,
        next: page.next,
    })
}

/// One inspector's counts in a venue's statistics.
#[derive(Debug, Clone)]
pub struct InspectorCounts {
    pub inspector: String,
    pub today: i64,
    pub total: i64,
}

/// A venue's statistics for a day (CST), no personal data.
#[derive(Debug, Clone)]
pub struct VenueStats {
    pub venue_id: String,
    pub date: Date,
    pub figures: projections::venue_stats::Figures,
    /// Every inspector bound now and anyone who checked here, by person id.
    pub inspectors: Vec<InspectorCounts>,
}

/// The admin's statistics of the venue for `date` (today when absent).
pub async fn stats(
    services: &Services,
    person: PersonId,
    raw: &str,
    date: Option<&str>,
) -> Result<VenueStats, ServiceError> {
    let venue_id = authorize_admin(
        services,
        raw,
        person,
        "only the venue's admin sees its statistics; inspectors see their own at /v1/me/venues/{id}/stats",
    )
    .await?;
    let date = crate::orgs::parse_date(date, services.now())?;
    let figures =
        projections::venue_stats::figures(&services.db, &venue_id.to_string(), &date.to_string())
            .await
            .map_err(ServiceError::internal)?;
    let mut inspectors: Vec<InspectorCounts> = figures
        .inspectors
        .iter()
        .map(|i| InspectorCounts {
            inspector: i.label.clone(),
            today: i.today,
            total: i.total,
        })
        .collect();
    for bound in projections::venues::inspectors(&services.db, &venue_id.to_string())
        .await
        .map_err(ServiceError::internal)?
    {
        if !inspectors.iter().any(|i| i.inspector == bound.person_id) {
            inspectors.push(InspectorCounts {
                inspector: bound.person_id,
                today: 0,
                total: 0,
            });
        }
    }
    inspectors.sort_by(|a, b| a.inspector.cmp(&b.inspector));
    Ok(VenueStats {
        venue_id: venue_id.to_string(),
        date,
        figures,
        inspectors,
    })
}

/// An inspector's own counts at a venue on `date` (today when absent): (that day, in all).
pub async fn my_stats(
    services: &Services,
    person: PersonId,
    raw: &str,
    date: Option<&str>,
) -> Result<(VenueId, Date, i64, i64), ServiceError> {
    let venue_id = venue_id(raw)?;
    if !is_inspector(services, venue_id, person).await? {
        return Err(ServiceError::Forbidden(
            "you do not inspect this venue".into(),
        ));
    }
    let date = crate::orgs::parse_date(date, services.now())?;
    let (today, total) = projections::venue_stats::inspector(
        &services.db,
        &venue_id.to_string(),
        &date.to_string(),
        &person.to_string(),
    )
    .await
    .map_err(ServiceError::internal)?;
    Ok((venue_id, date, today, total))
}
