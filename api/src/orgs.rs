//! Organisation use cases: registration (one admin, one org, a fresh declaration code),
//! weekly-limited edits, member bindings by code, and the admin dashboard's figures.

use commands::{CommandBus, CommandContext, Outcome};
use domain::claim::{Claim, ClaimState};
use domain::code::{BindingCode, CodeKind};
use domain::document::MobilePhone;
use domain::identity::PersonId;
use domain::org::{
    AdminLevel, Membership, MembershipCommand, MembershipError, Org, OrgAddress, OrgChanges,
    OrgCommand, OrgDetails, OrgError, OrgId, OrgName,
};
use domain::{Decider, DomainEvent};
use event_store::StreamId;
use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use crate::aggregates::{collect, seal_phone, Done};
use crate::crypto::vault::Vault;
use crate::error::ApiError;

pub fn org_stream(org: OrgId) -> StreamId {
    StreamId::of("org", org)
}

fn admin_claim_stream(admin: PersonId) -> StreamId {
    StreamId::of("org-admin", admin)
}

pub use crate::aggregates::{code_stream, random_code};

pub fn membership_stream(org: OrgId, person: PersonId) -> StreamId {
    StreamId::of("org-member", format!("{org}-{person}"))
}

/// The org registration as sent.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct OrgInput {
    pub name: String,
    pub address: String,
    /// `province`, `city`, `county`, `town`, `village`, or the division code of the region the
    /// org belongs to (行政归属层级).
    pub level: String,
    /// The admin's mobile phone.
    pub phone: String,
}

/// An edit as sent: any of the fields.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct OrgPatch {
    pub name: Option<String>,
    pub address: Option<String>,
    pub level: Option<String>,
    pub phone: Option<String>,
}

/// The answer to a registration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrgRegistered {
    pub org_id: Uuid,
    pub code: String,
}

/// Registers an org administered by `admin` (whose subject key seals the phone).
pub async fn register(
    bus: &CommandBus,
    vault: &Vault,
    ctx: &CommandContext,
    admin: PersonId,
    admin_subject: &str,
    input: &OrgInput,
) -> Result<Outcome<OrgRegistered>, ApiError> {
    let mut errors = Vec::new();
    let name = collect(OrgName::parse(&input.name), &mut errors);
    let address = collect(OrgAddress::parse(&input.address), &mut errors);
    let level = collect(AdminLevel::parse(&input.level), &mut errors);
    let phone = collect(MobilePhone::parse(&input.phone), &mut errors);
    let (Some(name), Some(address), Some(level), Some(phone)) = (name, address, level, phone)
    else {
        return Err(errors.into());
    };
    let details = OrgDetails {
        name,
        address,
        level,
        phone: seal_phone(vault, admin_subject, &phone).await?,
    };
    let now = bus.clock().now();
    let org_id = OrgId::new(Uuid::now_v7());
    crate::aggregates::create_with_code(
        bus,
        ctx,
        admin_claim_stream(admin),
        org_id.as_uuid(),
        CodeKind::Org,
        crate::aggregates::AdminHasOne {
            code: "org.admin_has_org",
            noun: "organisation",
            id_field: "org_id",
        },
        |code| {
            let events = Org::decide(
                &OrgCommand::Register {
                    org_id,
                    admin,
                    code,
                    details: details.clone(),
                    at: now,
                },
                &Org::initial(),
            )
            .map_err(|e| ApiError::conflict("org.exists", e.to_string()))?
            .iter()
            .map(DomainEvent::encode)
            .collect::<Result<Vec<_>, _>>()
            .map_err(ApiError::internal)?;
            Ok((
                org_stream(org_id),
                events,
                OrgRegistered {
                    org_id: org_id.as_uuid(),
                    code: code.to_string(),
                },
            ))
        },
    )
    .await
}

fn org_error(e: OrgError) -> ApiError {
    match e {
        OrgError::Unknown => ApiError::not_found("org.unknown", e.to_string()),
        OrgError::NotAdmin => ApiError::Forbidden(e.to_string()),
        OrgError::NothingToChange => {
            ApiError::invalid("body", "org.nothing_to_change", e.to_string())
        }
        OrgError::AlreadyRegistered => ApiError::conflict("org.exists", e.to_string()),
        OrgError::WeeklyEditLimit { next_allowed_at } => crate::aggregates::weekly_edit_limit(
            "org.weekly_edit_limit",
            e.to_string(),
            next_allowed_at,
        ),
    }
}

/// Edits an org's details (its admin only, once per natural week).
pub async fn edit(
    bus: &CommandBus,
    vault: &Vault,
    ctx: &CommandContext,
    by: PersonId,
    by_subject: &str,
    org_id: OrgId,
    patch: &OrgPatch,
) -> Result<Outcome<Done>, ApiError> {
    let mut errors = Vec::new();
    let name = patch
        .name
        .as_deref()
        .and_then(|n| collect(OrgName::parse(n), &mut errors));
    let address = patch
        .address
        .as_deref()
        .and_then(|a| collect(OrgAddress::parse(a), &mut errors));
    let level = patch
        .level
        .as_deref()
        .and_then(|l| collect(AdminLevel::parse(l), &mut errors));
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
    let changes = OrgChanges {
        name,
        address,
        level,
        phone,
    };
    let now = bus.clock().now();
    bus.decide::<Org, _>(
        ctx,
        org_stream(org_id),
        &OrgCommand::Edit {
            by,
            changes,
            at: now,
        },
        |_| Done {},
    )
    .await
    .map_err(|e| ApiError::from(e.map_rejected(org_error)))
}

/// The org a code of the org kind belongs to: `422` for a malformed or other-kind code,
/// `404 org.unknown_code` for a code never assigned.
pub async fn org_of_code(bus: &CommandBus, raw: &str) -> Result<OrgId, ApiError> {
    let code = parse_code(raw, CodeKind::Org)?;
    match crate::aggregates::fold::<Claim>(bus, &code_stream(&code)).await? {
        ClaimState::Held { holder } => Ok(OrgId::new(holder)),
        ClaimState::Free => Err(ApiError::not_found(
            "org.unknown_code",
            format!("no organisation has the declaration code {code}"),
        )),
    }
}

/// Parses a binding code of `kind`; a refusal carries its rule as the problem's `code`
/// (`code.wrong_kind`, `code.check_digit`, `code.format`), as API.md names them.
pub fn parse_code(raw: &str, kind: CodeKind) -> Result<BindingCode, ApiError> {
    BindingCode::parse_kind(raw, kind, "code").map_err(|e| ApiError::Unprocessable {
        code: e.code,
        errors: vec![crate::error::FieldError {
            field: e.field.into(),
            code: e.code.into(),
            detail: e.detail,
        }],
    })
}

/// The admin of an org, from its stream: `404 org.unknown` when there is no such org.
pub async fn admin_of(bus: &CommandBus, org_id: OrgId) -> Result<PersonId, ApiError> {
    match crate::aggregates::fold::<Org>(bus, &org_stream(org_id)).await? {
        domain::org::OrgState::Active { admin, .. } => Ok(admin),
        domain::org::OrgState::Absent => Err(ApiError::not_found(
            "org.unknown",
            format!("no organisation {org_id}"),
        )),
    }
}

/// The answer to a binding.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bound {
    pub org_id: Uuid,
}

/// Binds `subject` (the actor, or a member of the actor's family) to the org of `code`
/// (binding twice changes nothing).
pub async fn bind(
    bus: &CommandBus,
    ctx: &CommandContext,
    actor: PersonId,
    subject: PersonId,
    code: &str,
) -> Result<Outcome<Bound>, ApiError> {
    let org_id = org_of_code(bus, code).await?;
    let now = bus.clock().now();
    let m_stream = membership_stream(org_id, subject);
    let p_stream = crate::citizens::person_stream(subject);
    let mut streams = vec![m_stream.clone()];
    if subject != actor {
        streams.push(p_stream.clone());
    }
    Ok(bus
        .execute(ctx, &streams, |loaded| {
            let mut checks = Vec::new();
            if subject != actor {
                let person = loaded
                    .fold::<domain::person::Person>(&p_stream)
                    .map_err(ApiError::internal)?;
                let guardian = match &person {
                    domain::person::PersonState::Active { guardians, .. } => {
                        guardians.contains(&actor)
                    }
                    domain::person::PersonState::Absent => false,
                };
                if !guardian {
                    return Err(ApiError::Forbidden(
                        "you may bind only yourself or a member of your family".into(),
                    ));
                }
                checks.push(p_stream.clone());
            }
            let membership = loaded
                .fold::<Membership>(&m_stream)
                .map_err(ApiError::internal)?;
            let events = Membership::decide(
                &MembershipCommand::Bind {
                    org_id,
                    person: subject,
                    at: now,
                },
                &membership,
            )
            .map_err(membership_error)?;
            let mut decision = commands::Decision::unchanged(Bound {
                org_id: org_id.as_uuid(),
            })
            .append(m_stream.clone(), &events)
            .map_err(ApiError::internal)?;
            for c in checks {
                decision = decision.check(c);
            }
            Ok(decision)
        })
        .await?)
}

fn membership_error(e: MembershipError) -> ApiError {
    match e {
        MembershipError::NotBound => ApiError::not_found("org.not_bound", e.to_string()),
    }
}

/// Unbinds `person` from `org_id`.
pub async fn unbind(
    bus: &CommandBus,
    ctx: &CommandContext,
    person: PersonId,
    org_id: OrgId,
) -> Result<Outcome<Done>, ApiError> {
    let now = bus.clock().now();
    bus.decide::<Membership, _>(
        ctx,
        membership_stream(org_id, person),
        &MembershipCommand::Unbind { at: now },
        |_| Done {},
    )
    .await
    .map_err(|e| ApiError::from(e.map_rejected(membership_error)))
}

/// One day of the dashboard.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DayStats {
    /// `YYYY-MM-DD`, China Standard Time.
    pub date: String,
    /// Members bound at the end of the day.
    pub members: i64,
    /// Distinct persons who declared for the org that day.
    pub declared: i64,
    /// Members bound that day who did not declare.
    pub not_declared: i64,
    /// Declarations filed.
    pub declarations: i64,
    /// Persons whose latest declaration of the day has fever.
    pub fever: i64,
    /// Persons whose latest declaration of the day reports a symptom.
    pub symptoms: i64,
}

/// The admin dashboard.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrgStats {
    pub org_id: String,
    pub date: String,
    pub members: i64,
    pub declared_today: i64,
    pub not_declared_today: i64,
    pub declarations_today: i64,
    pub fever_today: i64,
    pub symptoms_today: i64,
    /// The 14 days ending at `date`, oldest first.
    pub series: Vec<DayStats>,
}

/// Days in the dashboard's series.
pub const SERIES_DAYS: i64 = 14;

/// The dashboard of `org_id` for `date` (CST).
pub async fn stats(
    db: &event_store::Database,
    org_id: &str,
    date: Date,
) -> Result<OrgStats, ApiError> {
    let from = date - Duration::days(SERIES_DAYS - 1);
    let mut series = Vec::with_capacity(SERIES_DAYS as usize);
    let mut day = from;
    while day <= date {
        let end = (day + Duration::days(1))
            .midnight()
            .assume_offset(domain::week::CST)
            .unix_timestamp();
        let members = projections::orgs::members_before(db, org_id, end)
            .await
            .map_err(ApiError::internal)?;
        let key = day.to_string();
        let row = projections::orgs::day(db, org_id, &key, end)
            .await
            .map_err(ApiError::internal)?;
        series.push(DayStats {
            date: key,
            members,
            declared: row.declared,
            not_declared: (members - row.declared_members).max(0),
            declarations: row.declarations,
            fever: row.fever,
            symptoms: row.symptoms,
        });
        day += Duration::days(1);
    }
    let today = series.last().cloned().unwrap_or(DayStats {
        date: date.to_string(),
        members: 0,
        declared: 0,
        not_declared: 0,
        declarations: 0,
        fever: 0,
        symptoms: 0,
    });
    Ok(OrgStats {
        org_id: org_id.to_owned(),
        date: date.to_string(),
        members: today.members,
        declared_today: today.declared,
        not_declared_today: today.not_declared,
        declarations_today: today.declarations,
        fever_today: today.fever,
        symptoms_today: today.symptoms,
        series,
    })
}

/// The dashboard as CSV: a header row, then one row per day of the series.
pub fn stats_csv(stats: &OrgStats) -> String {
    let mut out = String::from("date,members,declared,not_declared,declarations,fever,symptoms\n");
    for d in &stats.series {
        out.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            d.date, d.members, d.declared, d.not_declared, d.declarations, d.fever, d.symptoms
        ));
    }
    out
}

/// Whether `now` is the org's dashboard day or earlier (a future date has no figures).
pub fn parse_date(raw: Option<&str>, now: OffsetDateTime) -> Result<Date, ApiError> {
    let today = now.to_offset(domain::week::CST).date();
    match raw {
        None => Ok(today),
        Some(raw) => {
            let date = Date::parse(
                raw,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .map_err(|_| ApiError::invalid("date", "date.format", "date is YYYY-MM-DD"))?;
            if date > today {
                return Err(ApiError::invalid(
                    "date",
                    "date.future",
                    "date is today or earlier (China Standard Time)",
                ));
            }
            Ok(date)
        }
    }
}
