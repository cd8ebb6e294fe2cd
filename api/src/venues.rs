//! Venue use cases: creation (one admin, one venue, a venue code), weekly-limited edits,
//! handover, inspector bindings, scans of a citizen's code, temperature checks, posters and
//! quick check-ins, and the statistics.

use commands::{CommandBus, CommandContext, Decision, Outcome};
use domain::access::{AccessEvent, AccessedData, Accessor};
use domain::claim::{Claim, ClaimCommand, ClaimState};
use domain::code::CodeKind;
use domain::document::{Document, MobilePhone, Sex};
use domain::health::Band;
use domain::identity::PersonId;
use domain::venue::{
    parse_town, AgeBand, CheckInEvent, Demographics, Inspection, InspectionCommand,
    InspectionError, InspectionState, Scan, ScanCommand, ScanError, ScanState, Venue, VenueAddress,
    VenueChanges, VenueCommand, VenueDetails, VenueError, VenueId, VenueName, VenueState,
    VenueType,
};
use domain::{Decider, DomainEvent};
use event_store::StreamId;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::aggregates::{collect, seal_phone, Done};
use crate::citizens::{access_stream, identity_stream, person_stream};
use crate::crypto::keys::Keys;
use crate::crypto::vault::Vault;
use crate::error::ApiError;
use crate::orgs::{code_stream, parse_code};

pub fn venue_stream(venue: VenueId) -> StreamId {
    StreamId::of("venue", venue)
}

fn admin_claim_stream(admin: PersonId) -> StreamId {
    StreamId::of("venue-admin", admin)
}

pub fn inspection_stream(venue: VenueId, inspector: PersonId) -> StreamId {
    StreamId::of("venue-member", format!("{venue}-{inspector}"))
}

pub fn scan_stream(scan_id: Uuid) -> StreamId {
    StreamId::of("scan", scan_id)
}

fn checkin_stream(check_id: Uuid) -> StreamId {
    StreamId::of("checkin", check_id)
}

fn internal(e: impl Into<anyhow::Error>) -> ApiError {
    ApiError::internal(e)
}

use crate::aggregates::fold;

/// The venue's state from its stream: `404 venue.unknown` when there is none.
pub async fn venue_state(bus: &CommandBus, venue: VenueId) -> Result<VenueState, ApiError> {
    match fold::<Venue>(bus, &venue_stream(venue)).await? {
        VenueState::Absent => Err(ApiError::not_found(
            "venue.unknown",
            format!("no venue {venue}"),
        )),
        active @ VenueState::Active { .. } => Ok(active),
    }
}

/// The venue's admin: `404` for an unknown venue.
pub async fn admin_of(bus: &CommandBus, venue: VenueId) -> Result<PersonId, ApiError> {
    venue_state(bus, venue)
        .await?
        .admin()
        .ok_or_else(|| ApiError::not_found("venue.unknown", "no such venue"))
}

/// Whether `person` is bound to `venue` as an inspector now (from the binding's stream).
pub async fn is_inspector(
    bus: &CommandBus,
    venue: VenueId,
    person: PersonId,
) -> Result<bool, ApiError> {
    Ok(matches!(
        fold::<Inspection>(bus, &inspection_stream(venue, person)).await?,
        InspectionState::Bound { .. }
    ))
}

/// A venue as sent.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
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
    bus: &CommandBus,
    vault: &Vault,
    ctx: &CommandContext,
    admin: PersonId,
    admin_subject: &str,
    input: &VenueInput,
) -> Result<Outcome<VenueCreated>, ApiError> {
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
        phone: seal_phone(vault, admin_subject, &phone).await?,
    };
    let now = bus.clock().now();
    let venue_id = VenueId::new(Uuid::now_v7());
    crate::aggregates::create_with_code(
        bus,
        ctx,
        admin_claim_stream(admin),
        venue_id.as_uuid(),
        CodeKind::Venue,
        crate::aggregates::AdminHasOne {
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
            .map_err(|e| ApiError::conflict("venue.exists", e.to_string()))?
            .iter()
            .map(DomainEvent::encode)
            .collect::<Result<Vec<_>, _>>()
            .map_err(internal)?;
            Ok((
                venue_stream(venue_id),
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

fn venue_error(e: VenueError) -> ApiError {
    match e {
        VenueError::Unknown => ApiError::not_found("venue.unknown", e.to_string()),
        VenueError::NotAdmin => ApiError::Forbidden(e.to_string()),
        VenueError::NothingToChange => {
            ApiError::invalid("body", "venue.nothing_to_change", e.to_string())
        }
        VenueError::AlreadyCreated => ApiError::conflict("venue.exists", e.to_string()),
        VenueError::SuccessorIsAdmin => {
            ApiError::conflict("venue.successor_is_admin", e.to_string())
        }
        VenueError::WeeklyEditLimit { next_allowed_at } => crate::aggregates::weekly_edit_limit(
            "venue.weekly_edit_limit",
            e.to_string(),
            next_allowed_at,
        ),
    }
}

/// Edits a venue's details (its admin only, once per natural week).
pub async fn edit(
    bus: &CommandBus,
    vault: &Vault,
    ctx: &CommandContext,
    by: PersonId,
    by_subject: &str,
    venue_id: VenueId,
    patch: &VenuePatch,
) -> Result<Outcome<Done>, ApiError> {
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
        Some(p) => Some(seal_phone(vault, by_subject, &p).await?),
        None => None,
    };
    let now = bus.clock().now();
    bus.decide::<Venue, _>(
        ctx,
        venue_stream(venue_id),
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
    .map_err(|e| ApiError::from(e.map_rejected(venue_error)))
}

/// Hands the venue over to the registered person holding `successor`'s document: the old
/// admin's claim is released and the successor's taken in one append.
pub async fn hand_over(
    bus: &CommandBus,
    keys: &Keys,
    ctx: &CommandContext,
    by: PersonId,
    venue_id: VenueId,
    doc_type: &str,
    doc_number: &str,
) -> Result<Outcome<Done>, ApiError> {
    let now = bus.clock().now();
    let document =
        Document::parse(doc_type, doc_number, crate::citizens::today(now)).map_err(|e| {
            ApiError::invalid(
                format!("successor.{}", e.field.trim_start_matches("document.")),
                e.code,
                e.detail,
            )
        })?;
    let digest = crate::citizens::digest_of(keys, &document)?;
    let successor = fold::<domain::identity::Identity>(bus, &identity_stream(&digest))
        .await?
        .person_id()
        .ok_or_else(|| {
            ApiError::not_found(
                "person.unknown",
                "nobody has registered with this document; the successor logs in once first",
            )
        })?;
    let v_stream = venue_stream(venue_id);
    let old_claim = admin_claim_stream(by);
    let new_claim = admin_claim_stream(successor);
    let streams = [v_stream.clone(), old_claim.clone(), new_claim.clone()];
    Ok(bus
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
                ApiError::conflict(
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
pub async fn venue_of_code(bus: &CommandBus, raw: &str) -> Result<VenueId, ApiError> {
    let code = parse_code(raw, CodeKind::Venue)?;
    match fold::<Claim>(bus, &code_stream(&code)).await? {
        ClaimState::Held { holder } => Ok(VenueId::new(holder)),
        ClaimState::Free => Err(ApiError::not_found(
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

fn inspection_error(e: InspectionError) -> ApiError {
    match e {
        InspectionError::NotBound => ApiError::not_found("venue.not_bound", e.to_string()),
    }
}

/// Binds `inspector` to the venue of `code` (binding twice changes nothing).
pub async fn bind(
    bus: &CommandBus,
    ctx: &CommandContext,
    inspector: PersonId,
    code: &str,
) -> Result<Outcome<Bound>, ApiError> {
    let venue_id = venue_of_code(bus, code).await?;
    let now = bus.clock().now();
    bus.decide::<Inspection, _>(
        ctx,
        inspection_stream(venue_id, inspector),
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
    .map_err(|e| ApiError::from(e.map_rejected(inspection_error)))
}

/// Unbinds `inspector` from `venue_id`: by the inspector themself, or by the venue's admin
/// (checked on the venue's stream at commit, so a handover racing it wins).
pub async fn unbind(
    bus: &CommandBus,
    ctx: &CommandContext,
    by: PersonId,
    venue_id: VenueId,
    inspector: PersonId,
) -> Result<Outcome<Done>, ApiError> {
    let now = bus.clock().now();
    let i_stream = inspection_stream(venue_id, inspector);
    let v_stream = venue_stream(venue_id);
    let streams = if by == inspector {
        vec![i_stream.clone()]
    } else {
        vec![i_stream.clone(), v_stream.clone()]
    };
    Ok(bus
        .execute(ctx, &streams, |loaded| {
            let mut checks = Vec::new();
            if by != inspector {
                let venue = loaded.fold::<Venue>(&v_stream).map_err(internal)?;
                match venue.admin() {
                    None => return Err(ApiError::not_found("venue.unknown", "no such venue")),
                    Some(admin) if admin != by => {
                        return Err(ApiError::Forbidden(
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
    bus: &CommandBus,
    actor: PersonId,
    subject: PersonId,
) -> Result<bool, ApiError> {
    if actor == subject {
        return Ok(true);
    }
    Ok(
        match fold::<domain::person::Person>(bus, &person_stream(subject)).await? {
            domain::person::PersonState::Active { guardians, .. } => guardians.contains(&actor),
            domain::person::PersonState::Absent => false,
        },
    )
}

/// Sex and age band on `day`, from the person's read-model row.
pub fn demographics(row: &projections::people::PersonRow, day: Date) -> Demographics {
    let sex = match row.sex.as_deref() {
        Some("male") => Some(Sex::Male),
        Some("female") => Some(Sex::Female),
        _ => None,
    };
    let age_band = row
        .birth_date
        .as_deref()
        .and_then(|b| {
            Date::parse(b, time::macros::format_description!("[year]-[month]-[day]")).ok()
        })
        .map(|born| AgeBand::on(born, day));
    Demographics { sex, age_band }
}

/// What a scanner sees.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
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
    bus: &CommandBus,
    ctx: &CommandContext,
    venue_id: VenueId,
    inspector: PersonId,
    subject: PersonId,
    answer: ScanAnswer,
) -> Result<Outcome<ScanAnswer>, ApiError> {
    let now = bus.clock().now();
    let i_stream = inspection_stream(venue_id, inspector);
    let s_stream = scan_stream(answer.scan_id);
    let a_stream = access_stream(subject);
    let streams = [i_stream.clone()];
    Ok(bus
        .execute(ctx, &streams, |loaded| {
            let bound = matches!(
                loaded.fold::<Inspection>(&i_stream).map_err(internal)?,
                InspectionState::Bound { .. }
            );
            if !bound {
                return Err(ApiError::Forbidden(format!(
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
            .map_err(|e| ApiError::conflict("scan.exists", e.to_string()))?;
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

fn scan_error(e: ScanError) -> ApiError {
    match e {
        ScanError::Unknown => ApiError::not_found("scan.unknown", e.to_string()),
        ScanError::NotTheScanner => ApiError::Forbidden(e.to_string()),
        ScanError::AlreadyScanned => ApiError::conflict("scan.exists", e.to_string()),
        ScanError::OtherVenue => ApiError::conflict("scan.other_venue", e.to_string()),
        ScanError::Expired => ApiError::conflict("scan.expired", e.to_string()),
        ScanError::AlreadyChecked => ApiError::conflict("check.already_recorded", e.to_string()),
    }
}

/// The scan's state: `404 scan.unknown` when there is none.
pub async fn scan_state(bus: &CommandBus, scan_id: Uuid) -> Result<ScanState, ApiError> {
    match fold::<Scan>(bus, &scan_stream(scan_id)).await? {
        ScanState::Absent => Err(ApiError::not_found("scan.unknown", "no such scan")),
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
    bus: &CommandBus,
    ctx: &CommandContext,
    venue_id: VenueId,
    inspector: PersonId,
    scan_id: Uuid,
    band: Band,
    demographics: Demographics,
) -> Result<Outcome<Checked>, ApiError> {
    let now = bus.clock().now();
    let check_id = Uuid::now_v7();
    let s_stream = scan_stream(scan_id);
    let i_stream = inspection_stream(venue_id, inspector);
    let streams = [s_stream.clone(), i_stream.clone()];
    Ok(bus
        .execute(ctx, &streams, |loaded| {
            let bound = matches!(
                loaded.fold::<Inspection>(&i_stream).map_err(internal)?,
                InspectionState::Bound { .. }
            );
            if !bound {
                return Err(ApiError::Forbidden(format!(
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

/// A quick check-in at `venue_id` for `subject` (the actor or a member of their family),
/// band normal.
pub async fn check_in(
    bus: &CommandBus,
    ctx: &CommandContext,
    venue_id: VenueId,
    venue_name: String,
    actor: PersonId,
    subject: PersonId,
    demographics: Demographics,
) -> Result<Outcome<CheckedIn>, ApiError> {
    let now = bus.clock().now();
    let check_id = Uuid::now_v7();
    let p_stream = person_stream(subject);
    let streams: Vec<StreamId> = if subject == actor {
        Vec::new()
    } else {
        vec![p_stream.clone()]
    };
    Ok(bus
        .execute(ctx, &streams, |loaded| {
            let mut decision = Decision::unchanged(CheckedIn {
                check_id,
                venue_name: venue_name.clone(),
            });
            if subject != actor {
                let guardian = match loaded
                    .fold::<domain::person::Person>(&p_stream)
                    .map_err(internal)?
                {
                    domain::person::PersonState::Active { guardians, .. } => {
                        guardians.contains(&actor)
                    }
                    domain::person::PersonState::Absent => false,
                };
                if !guardian {
                    return Err(ApiError::Forbidden(
                        "you may check in only yourself or a member of your family".into(),
                    ));
                }
                decision = decision.check(p_stream.clone());
            }
            decision
                .append(
                    checkin_stream(check_id),
                    &[CheckInEvent::CheckedIn {
                        check_id,
                        venue_id,
                        subject,
                        by: actor,
                        demographics,
                        at: now,
                    }],
                )
                .map_err(internal)
        })
        .await?)
}

/// Whether `at` is within the validity of a scan made at `scanned`.
pub fn scan_valid(scanned: OffsetDateTime, at: OffsetDateTime) -> bool {
    at - scanned <= domain::venue::SCAN_VALIDITY
}
