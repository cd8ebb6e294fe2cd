//! Release-from-medical-observation notices: issued by granted staff on their own scan within
//! 30 minutes (each takes the next number of its year in the same commit, so numbers are
//! gap-free), releasing the reasons they name; withdrawn by the issuer or the province admin,
//! which brings those reasons back; seen by the citizen and listed by the issuer.

use commands::{CommandContext, Decision, Outcome};
use domain::access::{AccessEvent, AccessedData, Accessor};
use domain::document::mask_name;
use domain::identity::{Identity, IdentityCommand, PersonId, RedReason};
use domain::medical::{
    check_reasons, number_year, MedicalScan, MedicalScanCommand, MedicalScanError, Notice,
    NoticeCommand, NoticeNumbers, NoticeState, NumberCommand, ObservationPeriod,
};
use domain::week::today;
use domain::Decider;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::StaffPermit;
use crate::citizens::person_facts;
use crate::page::{Page, PageRequest};
use crate::support::{instant, Done};
use crate::{province, streams, ServiceError, Services};

/// How often a notice is decided again when other notices took its number first: every
/// round one of the contenders commits, so this bounds the concurrent issuers served.
const NUMBER_RETRIES: u32 = 64;

/// A notice as the staff member sends it.
#[derive(Debug, Clone, Deserialize)]
pub struct NoticeInput {
    pub scan_id: String,
    /// `YYYY-MM-DD`
    pub observation_from: String,
    /// `YYYY-MM-DD`, today or earlier
    pub observation_to: String,
    /// `close_contact`, `high_risk_arrival`, `centralised_quarantine`, `home_quarantine`
    pub reasons: Vec<String>,
}

/// The answer to an issued notice.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Issued {
    pub notice_id: Uuid,
    /// `YK2026-000123`
    pub number: String,
    pub released: Vec<RedReason>,
}

fn date(raw: &str, field: &'static str) -> Result<Date, domain::document::DocumentError> {
    Date::parse(
        raw.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| domain::document::DocumentError {
        field,
        code: "date.format",
        detail: format!("{field} is a date, YYYY-MM-DD"),
    })
}

fn unknown_scan() -> ServiceError {
    ServiceError::refused(MedicalScanError::UnknownScan)
}

/// Issues a notice on the permit holder's scan `input.scan_id`: `422` naming each bad field,
/// `404 scan.unknown`, `403` for someone else's scan or a revoked permission (checked at
/// commit), `409 scan.expired` after 30 minutes, `409 notice.already_issued`, `409
/// notice.reason_not_releasable` / `notice.reason_not_active` naming the reason (nothing is
/// released then). The notice, its number, the scan's mark and the releases commit together.
pub async fn issue(
    services: &Services,
    ctx: &CommandContext,
    permit: StaffPermit,
    input: &NoticeInput,
) -> Result<Outcome<Issued>, ServiceError> {
    let now = services.now();
    let mut errors = Vec::new();
    let from = crate::support::collect(
        date(&input.observation_from, "observation_from"),
        &mut errors,
    );
    let to = crate::support::collect(date(&input.observation_to, "observation_to"), &mut errors);
    let mut reasons = Vec::with_capacity(input.reasons.len());
    for raw in &input.reasons {
        match RedReason::parse(raw) {
            Some(reason) => reasons.push(reason),
            None => errors.push(domain::document::DocumentError {
                field: "reasons",
                code: "reason.unknown",
                detail: format!("{raw:?} is not a red reason"),
            }),
        }
    }
    let (Some(from), Some(to)) = (from, to) else {
        return Err(errors.into());
    };
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let period = ObservationPeriod::new(from, to, today(now)).map_err(ServiceError::refused)?;
    check_reasons(&reasons).map_err(ServiceError::refused)?;
    let scan_id = Uuid::parse_str(input.scan_id.trim()).map_err(|_| unknown_scan())?;
    let scan_stream = streams::medical_scan(scan_id);
    let loaded = services
        .bus
        .load(std::slice::from_ref(&scan_stream))
        .await?;
    let subject = loaded
        .fold::<MedicalScan>(&scan_stream)?
        .subject()
        .ok_or_else(unknown_scan)?;
    let i_streams = identity_streams(services, subject).await?;
    let notice_id = Uuid::now_v7();
    let year = number_year(now);
    let (n_stream, numbers) = (streams::notice(notice_id), streams::notice_numbers(year));
    let mut to_load = vec![n_stream.clone(), numbers.clone()];
    to_load.extend(i_streams.iter().cloned());
    let loaded = permit
        .loaded
        .clone()
        .join(loaded)
        .join(services.bus.load(&to_load).await?);
    let staff = permit.staff;
    Ok(services
        .bus
        .clone()
        .with_retries(NUMBER_RETRIES)
        .execute_loaded(ctx, loaded, |loaded| {
            let taken = NoticeNumbers::decide(
                &NumberCommand::Take {
                    notice_id,
                    year,
                    at: now,
                },
                &loaded.fold::<NoticeNumbers>(&numbers)?,
            )
            .map_err(|never: std::convert::Infallible| -> ServiceError { match never {} })?;
            let number = taken
                .first()
                .map(domain::medical::NumberEvent::number)
                .ok_or_else(|| ServiceError::internal(anyhow::anyhow!("no number taken")))?;
            let state = permit.state(loaded)?;
            let issued = Notice::decide(
                &NoticeCommand::Issue {
                    notice_id,
                    number,
                    scan_id,
                    staff,
                    staff_granted: state.is_granted(),
                    posting: state.posting().cloned(),
                    subject,
                    period,
                    reasons: reasons.clone(),
                    at: now,
                },
                &loaded.fold::<Notice>(&n_stream)?,
            )
            .map_err(ServiceError::refused)?;
            let marked = MedicalScan::decide(
                &MedicalScanCommand::AttachNotice {
                    notice_id,
                    by: staff,
                    at: now,
                },
                &loaded.fold::<MedicalScan>(&scan_stream)?,
            )
            .map_err(ServiceError::refused)?;
            let states = i_streams
                .iter()
                .map(|s| loaded.fold::<Identity>(s))
                .collect::<Result<Vec<_>, _>>()?;
            let released =
                domain::identity::release_by_notice_across(&states, notice_id, &reasons, now)
                    .map_err(ServiceError::refused)?;
            let mut decision = Decision::unchanged(Issued {
                notice_id,
                number: number.to_string(),
                released: reasons.clone(),
            })
            .append(n_stream.clone(), &issued)?
            .append(numbers.clone(), &taken)?
            .append(scan_stream.clone(), &marked)?
            .check(permit.stream.clone());
            for (stream, events) in i_streams.iter().zip(&released) {
                decision = match events.is_empty() {
                    true => decision.check(stream.clone()),
                    false => decision.append(stream.clone(), events)?,
                };
            }
            Ok::<_, ServiceError>(decision)
        })
        .await?)
}

/// The identity streams of each of `person`'s documents, the registration's first.
async fn identity_streams(
    services: &Services,
    person: PersonId,
) -> Result<Vec<event_store::StreamId>, ServiceError> {
    let (facts, code) = crate::citizens::person_documents(services, person).await?;
    Ok(crate::citizens::documents(&facts, &code)?
        .iter()
        .map(streams::identity)
        .collect())
}

fn unknown_notice() -> ServiceError {
    ServiceError::refused(domain::medical::NoticeError::UnknownNotice)
}

/// `by` withdraws the notice named by `raw` with `detail`: the issuer while still granted, or
/// the province admin (`403` for anyone else, `404 notice.unknown`, `422 withdrawal.detail`,
/// `409 notice.already_withdrawn`). The reasons it released come back in the same commit.
pub async fn withdraw(
    services: &Services,
    ctx: &CommandContext,
    by: PersonId,
    raw: &str,
    detail: &str,
) -> Result<Outcome<Done>, ServiceError> {
    let notice_id = Uuid::parse_str(raw).map_err(|_| unknown_notice())?;
    let n_stream = streams::notice(notice_id);
    let loaded = services.bus.load(std::slice::from_ref(&n_stream)).await?;
    let subject = match loaded.fold::<Notice>(&n_stream)? {
        NoticeState::Absent => return Err(unknown_notice()),
        NoticeState::Issued(n) | NoticeState::Withdrawn(n) => n.subject,
    };
    let i_streams = identity_streams(services, subject).await?;
    let by_digest = crate::citizens::person_digest(services, by).await?;
    let (seat, seat_loaded) = province::load_seat(services).await?;
    let s_stream = streams::medical_staff(by);
    let mut to_load = vec![s_stream.clone()];
    to_load.extend(i_streams.iter().cloned());
    let loaded = loaded
        .join(seat_loaded)
        .join(services.bus.load(&to_load).await?);
    let now = services.now();
    Ok(services
        .bus
        .execute_loaded(ctx, loaded, |loaded| {
            let withdrawn = Notice::decide(
                &NoticeCommand::Withdraw {
                    by,
                    by_granted_staff: loaded
                        .fold::<domain::medical::MedicalStaff>(&s_stream)?
                        .is_granted(),
                    by_province_admin: province::holds(loaded, &by_digest)?,
                    detail: detail.to_owned(),
                    at: now,
                },
                &loaded.fold::<Notice>(&n_stream)?,
            )
            .map_err(ServiceError::refused)?;
            let mut decision = Decision::unchanged(Done {})
                .append(n_stream.clone(), &withdrawn)?
                .check(s_stream.clone())
                .check(seat.clone());
            // The reasons come back on each document the notice released them from.
            for stream in &i_streams {
                let restored = Identity::decide(
                    &IdentityCommand::RestoreByWithdrawal { notice_id, at: now },
                    &loaded.fold::<Identity>(stream)?,
                )
                .map_err(ServiceError::refused)?;
                decision = match restored.is_empty() {
                    true => decision.check(stream.clone()),
                    false => decision.append(stream.clone(), &restored)?,
                };
            }
            Ok::<_, ServiceError>(decision)
        })
        .await?)
}

/// A reason on a notice, with its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeReason {
    pub reason: RedReason,
    pub label: &'static str,
}

/// How a notice was withdrawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    pub at: OffsetDateTime,
    /// `issuer` or `province_admin`
    pub by_role: String,
    pub detail: String,
}

/// A notice as its person and its issuer see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeView {
    pub notice_id: String,
    pub number: String,
    pub person_id: String,
    /// The person's masked name (`张*三`), empty once their key was shredded.
    pub name_masked: String,
    pub unit: String,
    pub position: String,
    /// The issuing staff member's masked name.
    pub staff_masked: String,
    pub observation_from: String,
    pub observation_to: String,
    pub reasons: Vec<NoticeReason>,
    pub issued_at: OffsetDateTime,
    pub withdrawal: Option<Withdrawal>,
}

/// The notice named by `raw`, for `viewer`: its person or the staff member who issued it
/// (`404 notice.unknown` for anyone else, so a notice id tells nothing of its person). The
/// issuer's look is recorded in the person's access log.
pub async fn view(
    services: &Services,
    viewer: PersonId,
    raw: &str,
) -> Result<NoticeView, ServiceError> {
    let id = Uuid::parse_str(raw).map_err(|_| unknown_notice())?;
    let row = projections::medical::notice(&services.db, &id.to_string())
        .await
        .map_err(ServiceError::internal)?
        .ok_or_else(unknown_notice)?;
    let viewer_id = viewer.to_string();
    if row.subject != viewer_id && row.staff != viewer_id {
        return Err(unknown_notice());
    }
    let subject = crate::citizens::person_id(&row.subject)?;
    let facts = person_facts(services, subject).await?;
    let name_masked =
        crate::citizens::masked_name(services, &facts.digest, facts.profile.as_deref()).await?;
    let staff_masked = match projections::medical::staff(&services.db, &row.staff)
        .await
        .map_err(ServiceError::internal)?
    {
        Some(staff) => super::contact(services, &row.staff, &staff.contact)
            .await?
            .map(|c| mask_name(&c.name))
            .unwrap_or_default(),
        None => String::new(),
    };
    if row.staff == viewer_id && row.subject != viewer_id {
        let now = services.now();
        let ctx = CommandContext::new(crate::auth::person_actor(viewer));
        services
            .bus
            .execute(&ctx, &[], |_| {
                Ok::<_, ServiceError>(Decision::unchanged(Done {}).append(
                    streams::access(subject),
                    &[AccessEvent::PersonalDataAccessed {
                        accessor: Accessor::Medical { person_id: viewer },
                        data: AccessedData::Profile,
                        at: now,
                    }],
                )?)
            })
            .await?;
    }
    let reasons: Vec<RedReason> = serde_json::from_str(&row.reasons)?;
    Ok(NoticeView {
        notice_id: row.notice_id,
        number: row.number,
        person_id: row.subject,
        name_masked,
        unit: row.unit,
        position: row.post,
        staff_masked,
        observation_from: row.observation_from,
        observation_to: row.observation_to,
        reasons: reasons
            .into_iter()
            .map(|reason| NoticeReason {
                reason,
                label: reason.label(),
            })
            .collect(),
        issued_at: instant(row.issued_at),
        withdrawal: row.withdrawn_at.map(|at| Withdrawal {
            at: instant(at),
            by_role: row.withdrawn_as.unwrap_or_default(),
            detail: row.withdrawal.unwrap_or_default(),
        }),
    })
}

/// A notice in its issuer's list: no name (the person is named by id), the number, period,
/// reasons and whether it was withdrawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedNotice {
    pub notice_id: String,
    pub number: String,
    pub person_id: String,
    pub observation_from: String,
    pub observation_to: String,
    pub reasons: Vec<RedReason>,
    pub issued_at: OffsetDateTime,
    pub withdrawn_at: Option<OffsetDateTime>,
}

/// The notices `staff` issued, newest first (also after their permission was revoked: it is
/// their own record).
pub async fn issued_by(
    services: &Services,
    staff: PersonId,
    page: PageRequest,
) -> Result<Page<IssuedNotice>, ServiceError> {
    let rows = projections::medical::issued_by(
        &services.db,
        &staff.to_string(),
        page.after,
        page.limit + 1,
    )
    .await
    .map_err(ServiceError::internal)?;
    let more = rows.len() > page.limit as usize;
    let rows: Vec<_> = rows.into_iter().take(page.limit as usize).collect();
    let next = more
        .then(|| rows.last().map(|r| r.seq.to_string()))
        .flatten();
    let items = rows
        .into_iter()
        .map(|row| {
            Ok(IssuedNotice {
                reasons: serde_json::from_str(&row.reasons)?,
                notice_id: row.notice_id,
                number: row.number,
                person_id: row.subject,
                observation_from: row.observation_from,
                observation_to: row.observation_to,
                issued_at: instant(row.issued_at),
                withdrawn_at: row.withdrawn_at.map(instant),
            })
        })
        .collect::<Result<Vec<_>, ServiceError>>()?;
    Ok(Page { items, next })
}
