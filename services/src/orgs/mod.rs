//! Organisation use cases: registration (one admin, one org, a fresh declaration code),
//! weekly-limited edits, member bindings by code, and the admin dashboard's figures.

use commands::{CommandContext, Decision, Outcome};
use domain::claim::{Claim, ClaimState};
use domain::code::{BindingCode, CodeKind};
use domain::document::MobilePhone;
use domain::identity::PersonId;
use domain::org::{
    AdminLevel, Membership, MembershipCommand, Org, OrgAddress, OrgChanges, OrgCommand, OrgDetails,
    OrgId, OrgName,
};
use domain::{Decider, DomainEvent};
use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use crate::error::ServiceError;
use crate::page::{Page, PageRequest};
use crate::streams;
use crate::support::{collect, instant, seal_phone, Done};
use crate::Services;

/// The org registration as sent.
#[derive(Debug, Clone, Deserialize)]
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
#[derive(Debug, Clone, Default, Deserialize)]
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
    services: &Services,
    ctx: &CommandContext,
    admin: PersonId,
    input: &OrgInput,
) -> Result<Outcome<OrgRegistered>, ServiceError> {
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
        phone: seal_phone(
            &services.vault,
            &crate::citizens::subject_of(services, admin).await?,
            &phone,
        )
        .await?,
    };
    let now = services.now();
    let org_id = OrgId::new(Uuid::now_v7());
    crate::support::create_with_code(
        services,
        ctx,
        streams::org_admin(admin),
        org_id.as_uuid(),
        CodeKind::Org,
        crate::support::AdminHasOne {
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
            .map_err(ServiceError::refused)?
            .iter()
            .map(DomainEvent::encode)
            .collect::<Result<Vec<_>, _>>()
            .map_err(ServiceError::internal)?;
            Ok((
                streams::org(org_id),
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

/// Edits an org's details (its admin only, once per natural week).
pub async fn edit(
    services: &Services,
    ctx: &CommandContext,
    permit: OrgAdmin,
    patch: &OrgPatch,
) -> Result<Outcome<Done>, ServiceError> {
    let (by, org_id) = (permit.admin, permit.org_id);
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
    let changes = OrgChanges {
        name,
        address,
        level,
        phone,
    };
    let now = services.now();
    let stream = streams::org(org_id);
    let command = OrgCommand::Edit {
        by,
        changes,
        at: now,
    };
    // Decided on the org's stream as the authorisation read it (checked at commit).
    Ok(services
        .bus
        .execute_loaded(ctx, permit.loaded, |loaded| {
            let events = Org::decide(&command, &loaded.fold::<Org>(&stream)?)
                .map_err(ServiceError::refused)?;
            Ok::<_, ServiceError>(Decision::unchanged(Done {}).append(stream.clone(), &events)?)
        })
        .await?)
}

/// The org a code of the org kind belongs to: `422` for a malformed or other-kind code,
/// `404 org.unknown_code` for a code never assigned.
pub async fn org_of_code(services: &Services, raw: &str) -> Result<OrgId, ServiceError> {
    let code = parse_code(raw, CodeKind::Org)?;
    match crate::support::fold::<Claim>(services, &streams::code(&code)).await? {
        ClaimState::Held { holder } => Ok(OrgId::new(holder)),
        ClaimState::Free => Err(ServiceError::not_found(
            "org.unknown_code",
            format!("no organisation has the declaration code {code}"),
        )),
    }
}

/// Parses a binding code of `kind`; a refusal carries its rule as the problem's `code`
/// (`code.wrong_kind`, `code.check_digit`, `code.format`), as API.md names them.
pub fn parse_code(raw: &str, kind: CodeKind) -> Result<BindingCode, ServiceError> {
    BindingCode::parse_kind(raw, kind, "code").map_err(|e| ServiceError::Invalid {
        code: e.code,
        errors: vec![crate::error::FieldError {
            field: e.field.into(),
            code: e.code.into(),
            detail: e.detail,
        }],
    })
}

/// The answer to a binding.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bound {
    pub org_id: Uuid,
}

/// Binds `subject` (the actor, or a member of the actor's family) to the org of `code`
/// (binding twice changes nothing).
pub async fn bind(
    services: &Services,
    ctx: &CommandContext,
    actor: PersonId,
    subject_id: Option<Uuid>,
    code: &str,
) -> Result<Outcome<Bound>, ServiceError> {
    let subject = subject_id.map_or(actor, PersonId::new);
    let org_id = org_of_code(services, code).await?;
    let now = services.now();
    let m_stream = streams::org_membership(org_id, subject);
    let p_stream = crate::streams::person(subject);
    let mut streams = vec![m_stream.clone()];
    if subject != actor {
        streams.push(p_stream.clone());
    }
    Ok(services
        .bus
        .execute(ctx, &streams, |loaded| {
            // Who may act for the subject comes first: a stranger learns nothing of the
            // subject's bindings.
            let acting_for_allowed = subject == actor
                || domain::person::may_act_for(
                    actor,
                    subject,
                    &loaded.fold::<domain::person::Person>(&p_stream)?,
                );
            let events = Membership::decide(
                &MembershipCommand::Bind {
                    org_id,
                    person: subject,
                    acting_for_allowed,
                    at: now,
                },
                &loaded.fold::<Membership>(&m_stream)?,
            )
            .map_err(ServiceError::refused)?;
            let decision = commands::Decision::unchanged(Bound {
                org_id: org_id.as_uuid(),
            })
            .append(m_stream.clone(), &events)?;
            // A guardian's right must still hold when the binding commits.
            Ok::<_, ServiceError>(if subject == actor {
                decision
            } else {
                decision.check(p_stream.clone())
            })
        })
        .await?)
}

/// Unbinds `person` from `org_id`.
pub async fn unbind(
    services: &Services,
    ctx: &CommandContext,
    person: PersonId,
    org_id: &str,
) -> Result<Outcome<Done>, ServiceError> {
    let org_id = Uuid::parse_str(org_id).map(OrgId::new).map_err(|_| {
        ServiceError::not_found("org.not_bound", "you are not bound to this organisation")
    })?;
    let now = services.now();
    services
        .bus
        .decide::<Membership, _>(
            ctx,
            streams::org_membership(org_id, person),
            &MembershipCommand::Unbind { at: now },
            |_| Done {},
        )
        .await
        .map_err(|e| ServiceError::from(e.map_rejected(ServiceError::refused)))
}

/// One day of the dashboard.
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
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
async fn stats(
    db: &event_store::Database,
    org_id: &str,
    date: Date,
) -> Result<OrgStats, ServiceError> {
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
            .map_err(ServiceError::internal)?;
        let key = day.to_string();
        let row = projections::orgs::day(db, org_id, &key, end)
            .await
            .map_err(ServiceError::internal)?;
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

/// An organisation's admin, found before what they ask is read (who may act comes first):
/// the org's stream as read, so a command decides on that same read.
#[derive(Debug)]
pub struct OrgAdmin {
    pub org_id: OrgId,
    pub admin: PersonId,
    loaded: commands::Loaded,
}

/// What only an organisation's admin does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminAction {
    Edit,
    SeeDetails,
    SeeDashboard,
}

impl AdminAction {
    /// What anyone else is told.
    fn refusal(self) -> &'static str {
        match self {
            AdminAction::Edit => "only the organisation's admin may edit it",
            AdminAction::SeeDetails => "only the organisation's admin sees its details",
            AdminAction::SeeDashboard => "only the organisation's admin sees its dashboard",
        }
    }
}

/// The org named by a path segment when `person` administers it, for `action`: `404
/// org.unknown` for no such org, `403` for anyone else.
pub async fn authorize_admin(
    services: &Services,
    org_id: &str,
    person: PersonId,
    action: AdminAction,
) -> Result<OrgAdmin, ServiceError> {
    let org_id = Uuid::parse_str(org_id).map(OrgId::new).map_err(|_| {
        ServiceError::not_found("org.unknown", format!("no organisation {org_id:?}"))
    })?;
    let stream = streams::org(org_id);
    let loaded = services.bus.load(std::slice::from_ref(&stream)).await?;
    match loaded.fold::<Org>(&stream)? {
        domain::org::OrgState::Absent => Err(ServiceError::not_found(
            "org.unknown",
            format!("no organisation {org_id}"),
        )),
        domain::org::OrgState::Active { admin, .. } if admin == person => Ok(OrgAdmin {
            org_id,
            admin,
            loaded,
        }),
        domain::org::OrgState::Active { .. } => {
            Err(ServiceError::Forbidden(action.refusal().into()))
        }
    }
}

/// The admin dashboard of the day `date` (CST): members, declarations, fever and symptom
/// counts, and a 14-day series. No personal data.
pub async fn dashboard(
    services: &Services,
    admin: &OrgAdmin,
    date: Date,
) -> Result<OrgStats, ServiceError> {
    stats(&services.db, &admin.org_id.to_string(), date).await
}

/// The dashboard's series as CSV with a header row (no personal data, numbers only).
pub fn series_csv(stats: &OrgStats) -> String {
    let mut out = String::from("date,members,declared,not_declared,declarations,fever,symptoms\n");
    for d in &stats.series {
        out.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            d.date, d.members, d.declared, d.not_declared, d.declarations, d.fever, d.symptoms
        ));
    }
    out
}

/// An organisation a person is bound to.
#[derive(Debug, Clone)]
pub struct MyOrg {
    pub org_id: String,
    pub name: String,
    pub code: String,
    pub bound_at: OffsetDateTime,
}

/// The organisations `person` is bound to, oldest binding first.
pub async fn my_orgs(
    services: &Services,
    person: PersonId,
    page: PageRequest,
) -> Result<Page<MyOrg>, ServiceError> {
    let rows = projections::orgs::of_member(&services.db, &person.to_string())
        .await
        .map_err(ServiceError::internal)?;
    Ok(page.slice(rows).map(|r| MyOrg {
        bound_at: instant(r.bound_at),
        org_id: r.org_id,
        name: r.name,
        code: r.code,
    }))
}

/// An organisation as its admin sees it.
#[derive(Debug, Clone)]
pub struct OrgForAdmin {
    pub org_id: String,
    pub name: String,
    pub address: String,
    pub level: String,
    /// The admin's own phone, opened (none once shredded).
    pub phone: Option<String>,
    pub code: String,
    pub registered_at: OffsetDateTime,
    /// When the next edit is allowed (none: now).
    pub next_edit_allowed_at: Option<OffsetDateTime>,
}

/// The organisation as its admin sees it: details, the code to share, when the next edit is
/// allowed.
pub async fn show(services: &Services, admin: &OrgAdmin) -> Result<OrgForAdmin, ServiceError> {
    let (person, org_id) = (admin.admin, admin.org_id);
    let org = projections::orgs::org(&services.db, &org_id.to_string())
        .await
        .map_err(ServiceError::internal)?
        .ok_or_else(|| ServiceError::not_found("org.unknown", "no such organisation"))?;
    let subject = crate::citizens::subject_of(services, person).await?;
    let phone = services
        .vault
        .open(&subject, &crypto::vault::Sealed(org.phone.clone()))
        .await
        .map_err(ServiceError::internal)?
        .and_then(|bytes| String::from_utf8(bytes).ok());
    let now = services.now();
    let next_edit_allowed_at = org
        .last_edit_at
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|last| domain::week::weekly_edit_allowed(Some(last), now).err());
    Ok(OrgForAdmin {
        registered_at: instant(org.registered_at),
        org_id: org.org_id,
        name: org.name,
        address: org.address,
        level: org.level,
        phone,
        code: org.code,
        next_edit_allowed_at,
    })
}
