//! Scans of a citizen's code by a bound inspector, the scanned person's latest declaration,
//! and the temperature check recorded on a scan.

use domain::health_code::{HealthCode, TokenStanding};
use event_store::StreamId;

use super::*;

/// What a scanner sees.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScanAnswer {
    pub scan_id: Uuid,
    pub person_id: Uuid,
    /// `张*强`
    pub name_masked: String,
    /// `139****5678`, empty when unknown
    pub phone_masked: String,
    /// The code's colour now (serialised `green` or `red`, as idempotency records keep it).
    pub colour: Colour,
    /// The active red reasons' labels: shown only for a fresh code (issued within the last
    /// few minutes): a photographed code shows the colour and the masked identity alone.
    pub reason_labels: Vec<String>,
    /// Whether the code shown was fresh: only then may a check, a visit or a declaration view
    /// follow this scan (`409 scan.code_not_fresh` otherwise).
    #[serde(default = "answers_before_freshness")]
    pub fresh: bool,
    /// Medical scans only (a government role, SPEC §2): the name in clear. Never recorded
    /// with the answer a retry replays; opened again for each answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Medical scans only: the phone in clear (empty when unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Medical scans only: each active reason with its label, since when, and its source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasons: Option<Vec<crate::citizens::ActiveReason>>,
}

fn answers_before_freshness() -> bool {
    true
}

/// A verified code token: the person it names and when it was issued.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ShownCode {
    pub subject: PersonId,
    /// `None` for a token of the first format (no issue time).
    pub issued_at: Option<OffsetDateTime>,
}

/// Verifies the code token `token` (pure: nothing is looked up).
pub(crate) fn read_code(services: &Services, token: &str) -> Result<ShownCode, ServiceError> {
    let claims = services
        .keys
        .code_keys
        .verify(token)
        .map_err(|e| refused_token("token", e))?;
    Ok(ShownCode {
        subject: PersonId::new(claims.person),
        issued_at: claims
            .issued_at_micros
            .and_then(|m| OffsetDateTime::from_unix_timestamp_nanos(i128::from(m) * 1_000).ok()),
    })
}

/// Whether `code` is fresh, from its holder's resets in `loaded` (which holds the stream
/// [`streams::health_code`] of the code's person): `422 code_token.reset` when the holder
/// reset their code after it was issued.
pub(crate) fn code_is_fresh(
    services: &Services,
    loaded: &commands::Loaded,
    code: &ShownCode,
) -> Result<bool, ServiceError> {
    let validity = loaded.fold::<HealthCode>(&streams::health_code(code.subject))?;
    match validity.standing(code.issued_at, services.now(), services.code_fresh_for) {
        TokenStanding::Void => Err(ServiceError::invalid_with_code(
            "token",
            "code_token.reset",
            "this code was reset by its holder and no longer counts; ask them to show the \
             code their app shows now"
                .to_owned(),
        )),
        TokenStanding::Old => Ok(false),
        TokenStanding::Fresh => Ok(true),
    }
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
    let (venue_id, code) = match (place.venue_id, place.grid_id, place.medical) {
        (Some(v), None, false) => (VenueId::new(v), read_code(services, token)?),
        (None, Some(grid), false) => {
            let grid = domain::grid::GridId::new(grid);
            let code = read_code(services, token)?;
            return crate::grids::scan(services, ctx, scanner, grid, code).await;
        }
        (None, None, true) => {
            // Who may scan is answered before the code is read.
            let permit = crate::medical::permit_staff(services, scanner).await?;
            return crate::medical::scan(services, ctx, permit, token).await;
        }
        _ => {
            return Err(ServiceError::invalid(
                "context",
                "scan.context",
                "context is one of {\"venue_id\"}, {\"grid_id\"} or {\"medical\": true}",
            ))
        }
    };
    let subject = code.subject;
    let i_stream = streams::inspection(venue_id, scanner);
    let c_stream = streams::health_code(subject);
    let loaded = services
        .bus
        .load(&[i_stream.clone(), c_stream.clone()])
        .await?;
    // Who may scan is answered before the person is looked up (403 or 404 would otherwise
    // tell a stranger whether the code's person exists).
    if !is_bound(loaded.fold::<Inspection>(&i_stream)?) {
        return Err(ServiceError::refused(
            domain::venue::ScanError::NotBoundToScan(venue_id),
        ));
    }
    let fresh = code_is_fresh(services, &loaded, &code)?;
    let answer = masked_answer(services, subject, fresh, &code_state(&loaded, &code)?)
        .await?
        .answer;
    let now = services.now();
    // The scan names the person by the day's pseudonym (retention: `crate::links`).
    let linked = crate::links::link(services, subject, now).await?;
    let accessor = crate::links::link_accessor(
        services,
        Accessor::Venue {
            venue_id: venue_id.as_uuid(),
            person_id: scanner,
        },
        now,
    )
    .await?;
    let s_stream = streams::scan(answer.scan_id);
    let a_stream = streams::access(subject);
    Ok(services
        .bus
        .execute_loaded(ctx, loaded, |loaded| {
            let inspector_bound = is_bound(loaded.fold::<Inspection>(&i_stream)?);
            let scanned = Scan::decide(
                &ScanCommand::Scan {
                    scan_id: answer.scan_id,
                    venue_id,
                    inspector: scanner,
                    subject: linked,
                    inspector_bound,
                    fresh: code_is_fresh(services, loaded, &code)?,
                    at: now,
                },
                &Scan::initial(),
            )
            .map_err(ServiceError::refused)?;
            let accessed = AccessEvent::PersonalDataAccessed {
                accessor: accessor.clone(),
                data: AccessedData::Code,
                at: now,
            };
            // Still bound, and the code not reset, when the scan commits.
            Ok::<_, ServiceError>(
                Decision::unchanged(answer.clone())
                    .append(s_stream.clone(), &scanned)?
                    .append(a_stream.clone(), &[accessed])?
                    .check(i_stream.clone())
                    .check(c_stream.clone()),
            )
        })
        .await?)
}

/// What a scan shows of a person, and what it was made from.
pub(crate) struct Shown {
    pub answer: ScanAnswer,
    /// Every active reason, over all the person's documents.
    pub reasons: Vec<crate::citizens::ActiveReason>,
    pub profile: Option<crate::citizens::Profile>,
}

/// The code stream of the code a scan read, folded (it was loaded to check the code's
/// standing): the documents attached to the person's code.
pub(crate) fn code_state(
    loaded: &commands::Loaded,
    code: &ShownCode,
) -> Result<domain::health_code::CodeState, ServiceError> {
    Ok(loaded.fold::<HealthCode>(&streams::health_code(code.subject))?)
}

/// What a scanner sees of `subject` (masked name and phone, colour, and for a `fresh` code
/// the reason labels), under a new scan id; `code` is the person's code stream, folded, so
/// the reasons of every document of theirs count.
pub(crate) async fn masked_answer(
    services: &Services,
    subject: PersonId,
    fresh: bool,
    code: &domain::health_code::CodeState,
) -> Result<Shown, ServiceError> {
    let facts = crate::citizens::person_facts_fast(services, subject)
        .await?
        .ok_or_else(|| crate::citizens::unknown_person(subject))?;
    let active =
        crate::citizens::reasons_of(services, &crate::citizens::documents(&facts, code)?).await?;
    let profile =
        crate::citizens::open_profile(services, &facts.digest, facts.profile.as_deref()).await?;
    let reasons: Vec<RedReason> = active.iter().map(|r| r.reason).collect();
    let answer = ScanAnswer {
        scan_id: Uuid::now_v7(),
        person_id: subject.as_uuid(),
        name_masked: profile
            .as_ref()
            .map(|p| mask_name(&p.name))
            .unwrap_or_default(),
        phone_masked: crate::support::masked_phone(
            profile.as_ref().and_then(|p| p.phone.as_deref()),
        ),
        colour: Colour::of(&reasons),
        reason_labels: if fresh {
            reasons.iter().map(|r| r.label().to_owned()).collect()
        } else {
            Vec::new()
        },
        fresh,
        name: None,
        phone: None,
        reasons: None,
    };
    Ok(Shown {
        answer,
        reasons: active,
        profile,
    })
}

/// A scanner allowed to see the latest declaration of the person their scan names (the
/// scan exists, they made it, they are still bound to its venue, it is under 30 minutes
/// old): the scan's and the binding's streams as read, so the view decides on that read.
#[derive(Debug)]
pub struct DeclarationView {
    scanner: PersonId,
    venue_id: VenueId,
    subject: PersonId,
    scan_stream: StreamId,
    inspection_stream: StreamId,
    loaded: commands::Loaded,
}

/// Lets `scanner` see the declaration behind the scan named by `raw`: `404 scan.unknown`,
/// `403` for anyone but the scanner still bound to the venue, `409 scan.expired`.
pub async fn permit_declaration_view(
    services: &Services,
    scanner: PersonId,
    raw: &str,
) -> Result<DeclarationView, ServiceError> {
    let unknown = || ServiceError::not_found("scan.unknown", "no such scan");
    let scan_id = Uuid::parse_str(raw).map_err(|_| unknown())?;
    let scan_stream = streams::scan(scan_id);
    let loaded = services
        .bus
        .load(std::slice::from_ref(&scan_stream))
        .await?;
    let Some((venue_id, _, named, scanned_at)) = loaded.fold::<Scan>(&scan_stream)?.scanned()
    else {
        return Err(unknown());
    };
    let subject = crate::links::resolve_or_unknown(services, named, scanned_at).await?;
    let inspection_stream = streams::inspection(venue_id, scanner);
    let loaded = loaded.join(
        services
            .bus
            .load(std::slice::from_ref(&inspection_stream))
            .await?,
    );
    let view = DeclarationView {
        scanner,
        venue_id,
        subject,
        scan_stream,
        inspection_stream,
        loaded,
    };
    view.decide(&view.loaded, services.now())?;
    Ok(view)
}

impl DeclarationView {
    /// The Scan decider's answer on `loaded` (the permit's read, or a fresh one at commit).
    fn decide(&self, loaded: &commands::Loaded, at: OffsetDateTime) -> Result<(), ServiceError> {
        let inspector_bound = is_bound(loaded.fold::<Inspection>(&self.inspection_stream)?);
        Scan::decide(
            &ScanCommand::ViewDeclaration {
                viewer: self.scanner,
                inspector_bound,
                at,
            },
            &loaded.fold::<Scan>(&self.scan_stream)?,
        )
        .map_err(ServiceError::refused)?;
        Ok(())
    }
}

/// The latest health declaration of the person a permitted scan names, health facts only
/// (`404 declaration.none` when there is none); the access is recorded in the person's
/// access log, while the scanner is still bound (checked at commit).
pub async fn scanned_declaration(
    services: &Services,
    view: DeclarationView,
) -> Result<serde_json::Value, ServiceError> {
    let latest = latest_declaration(services, view.subject).await?;
    let now = services.now();
    let a_stream = streams::access(view.subject);
    let ctx = CommandContext::new(crate::auth::person_actor(view.scanner));
    let accessed = AccessEvent::PersonalDataAccessed {
        accessor: crate::links::link_accessor(
            services,
            Accessor::Venue {
                venue_id: view.venue_id.as_uuid(),
                person_id: view.scanner,
            },
            now,
        )
        .await?,
        data: AccessedData::Declarations,
        at: now,
    };
    let outcome = services
        .bus
        .execute_loaded(&ctx, view.loaded.clone(), |loaded| {
            view.decide(loaded, now)?;
            Ok::<_, ServiceError>(
                Decision::unchanged(latest.clone())
                    .append(a_stream.clone(), std::slice::from_ref(&accessed))?
                    .check(view.inspection_stream.clone()),
            )
        })
        .await?;
    Ok(outcome.into_response())
}

/// The latest health declaration of `subject`, health facts only: `404 declaration.none`
/// when there is none.
pub(crate) async fn latest_declaration(
    services: &Services,
    subject: PersonId,
) -> Result<serde_json::Value, ServiceError> {
    projections::histories::page(
        &services.db,
        &[subject.to_string()],
        projections::histories::HistoryKind::Declarations,
        None,
        1,
    )
    .await
    .map_err(ServiceError::internal)?
    .items
    .into_iter()
    .next()
    .map(health_facts)
    .ok_or_else(|| {
        ServiceError::not_found(
            "declaration.none",
            "this person has filed no health declaration",
        )
    })
}

/// The health facts of a declaration as the history shows it: not the organisation declared
/// for, nor who filed it.
fn health_facts(mut declaration: serde_json::Value) -> serde_json::Value {
    if let Some(fields) = declaration.as_object_mut() {
        fields.remove("org_id");
        fields.remove("filed_by");
    }
    declaration
}

/// Whether an inspection binding holds.
fn is_bound(state: InspectionState) -> bool {
    matches!(state, InspectionState::Bound { .. })
}

/// The answer to a check.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checked {
    pub check_id: Uuid,
}

/// An inspector found bound to a venue: what a temperature check refuses before reading its
/// body (who may ask comes before what they say). It holds the venue's and the binding's
/// streams as read, so the check decides on that same read.
#[derive(Debug)]
pub struct CheckPermit {
    venue_id: VenueId,
    inspector: PersonId,
    loaded: commands::Loaded,
}

/// Lets `inspector` record checks at the venue named by `raw`: `404` for no such venue, `403`
/// unless they are bound to it.
pub async fn permit_check(
    services: &Services,
    raw: &str,
    inspector: PersonId,
) -> Result<CheckPermit, ServiceError> {
    let venue_id = venue_id(raw)?;
    let v_stream = streams::venue(venue_id);
    let i_stream = streams::inspection(venue_id, inspector);
    let loaded = services
        .bus
        .load(&[v_stream.clone(), i_stream.clone()])
        .await?;
    if let VenueState::Absent = loaded.fold::<Venue>(&v_stream)? {
        return Err(ServiceError::not_found(
            "venue.unknown",
            format!("no venue {venue_id}"),
        ));
    }
    if !is_bound(loaded.fold::<Inspection>(&i_stream)?) {
        return Err(ServiceError::refused(
            domain::venue::ScanError::NotBoundToCheck(venue_id),
        ));
    }
    Ok(CheckPermit {
        venue_id,
        inspector,
        loaded,
    })
}

/// Records the band (`normal` or `fever`) of the person scanned by `scan_id` (the same
/// inspector, still bound at commit, the same venue, within 30 minutes, once per scan).
pub async fn record_check(
    services: &Services,
    ctx: &CommandContext,
    permit: CheckPermit,
    scan_id: Uuid,
    band: &str,
) -> Result<Outcome<Checked>, ServiceError> {
    let band = Band::parse(band, "band")?;
    let CheckPermit {
        venue_id,
        inspector,
        loaded,
    } = permit;
    let s_stream = streams::scan(scan_id);
    let i_stream = streams::inspection(venue_id, inspector);
    let loaded = loaded.join(services.bus.load(std::slice::from_ref(&s_stream)).await?);
    let Some((_, _, named, scanned_at)) = loaded.fold::<Scan>(&s_stream)?.scanned() else {
        return Err(ServiceError::not_found("scan.unknown", "no such scan"));
    };
    let subject = crate::links::resolve_or_unknown(services, named, scanned_at).await?;
    let row = crate::citizens::person_facts(services, subject).await?;
    let now = services.now();
    let demographics = row.demographics(domain::week::today(now));
    let check_id = Uuid::now_v7();
    Ok(services
        .bus
        .execute_loaded(ctx, loaded, |loaded| {
            let inspector_bound = is_bound(loaded.fold::<Inspection>(&i_stream)?);
            let events = Scan::decide(
                &ScanCommand::Check {
                    check_id,
                    venue_id,
                    inspector,
                    inspector_bound,
                    band,
                    demographics,
                    at: now,
                },
                &loaded.fold::<Scan>(&s_stream)?,
            )
            .map_err(ServiceError::refused)?;
            Ok::<_, ServiceError>(
                Decision::unchanged(Checked { check_id })
                    .append(s_stream.clone(), &events)?
                    .check(i_stream.clone()),
            )
        })
        .await?)
}
