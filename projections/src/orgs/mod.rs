//! Organisations: their admin, code and name, who is bound now, and per day the members who
//! declared for the org, with fever and symptoms from each one's latest declaration of the
//! day. Feeds the admin dashboard, `GET /v1/me/orgs` and the roles in `GET /v1/me`.

use async_trait::async_trait;
use domain::org::{MembershipEvent, OrgEvent};
use domain::person::PersonEvent;
use domain::streams;
use domain::week::CST;
use event_store::{Backend, Database, RecordedEvent};

use crate::query::{decode, fetch_all, fetch_optional, stream_id, Arg};
use crate::{Projection, ProjectionError, Tables, Tx};

#[derive(Debug, Clone, Copy)]
pub struct Orgs;

#[async_trait]
impl Projection for Orgs {
    fn name(&self) -> &'static str {
        "orgs"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["org_info", "org_members", "org_daily"]
    }

    fn schema(&self, _backend: Backend) -> &'static str {
        include_str!("schema.sql")
    }

    async fn apply(
        &self,
        tx: &mut Tx,
        tables: &Tables,
        events: &[RecordedEvent],
    ) -> Result<(), ProjectionError> {
        for e in events {
            if stream_id(&e.stream, streams::ORG_MEMBER).is_some() {
                match decode::<MembershipEvent>(e)? {
                    MembershipEvent::OrgMemberBound { org_id, person, at } => {
                        let (org, person) = (org_id.to_string(), person.to_string());
                        tx.exec(
                            &tables.sql(include_str!("bind.sql")),
                            &[
                                Arg::Text(&org),
                                Arg::Text(&person),
                                Arg::Int(at.unix_timestamp()),
                            ],
                        )
                        .await?;
                    }
                    MembershipEvent::OrgMemberUnbound { org_id, person, at } => {
                        let (org, person) = (org_id.to_string(), person.to_string());
                        tx.exec(
                            &tables.sql(include_str!("unbind.sql")),
                            &[
                                Arg::Text(&org),
                                Arg::Text(&person),
                                Arg::Int(at.unix_timestamp()),
                            ],
                        )
                        .await?;
                    }
                }
            } else if stream_id(&e.stream, streams::ORG_ADMIN).is_some() {
                // Claims: nothing to show.
            } else if let Some(org) = stream_id(&e.stream, streams::ORG) {
                match decode::<OrgEvent>(e)? {
                    OrgEvent::OrgRegistered {
                        admin,
                        code,
                        name,
                        address,
                        level,
                        phone,
                        at,
                        ..
                    } => {
                        let (admin, code) = (admin.to_string(), code.to_string());
                        tx.exec(
                            &tables.sql(include_str!("register.sql")),
                            &[
                                Arg::Text(org),
                                Arg::Text(&admin),
                                Arg::Text(&code),
                                Arg::Text(name.as_str()),
                                Arg::Text(address.as_str()),
                                Arg::Text(level.as_str()),
                                Arg::Text(phone.as_str()),
                                Arg::Int(at.unix_timestamp()),
                            ],
                        )
                        .await?;
                    }
                    OrgEvent::OrgDetailsEdited { changes, at } => {
                        tx.exec(
                            &tables.sql(include_str!("rename.sql")),
                            &[
                                Arg::Text(org),
                                Arg::OptText(changes.name.as_ref().map(|n| n.as_str())),
                                Arg::OptText(changes.address.as_ref().map(|a| a.as_str())),
                                Arg::OptText(changes.level.as_ref().map(|l| l.as_str())),
                                Arg::OptText(changes.phone.as_ref().map(|p| p.as_str())),
                                Arg::Int(at.unix_timestamp()),
                            ],
                        )
                        .await?;
                    }
                }
            } else if let Some(person) = stream_id(&e.stream, streams::PERSON) {
                if let PersonEvent::DeclarationFiled {
                    org_id: Some(org_id),
                    declaration,
                    at,
                    ..
                } = decode::<PersonEvent>(e)?
                {
                    let org = org_id.to_string();
                    let day = at.to_offset(CST).date().to_string();
                    tx.exec(
                        &tables.sql(include_str!("declared.sql")),
                        &[
                            Arg::Text(&org),
                            Arg::Text(&day),
                            Arg::Text(person),
                            Arg::Int(i64::from(declaration.has_fever())),
                            Arg::Int(i64::from(!declaration.symptoms.is_empty())),
                        ],
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }
}

/// An organisation as the read model holds it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OrgRow {
    pub org_id: String,
    pub admin: String,
    pub code: String,
    pub name: String,
    pub address: String,
    pub level: String,
    /// Sealed under the admin's key.
    pub phone: String,
    pub registered_at: i64,
    pub last_edit_at: Option<i64>,
}

/// The org with this id.
pub async fn org(db: &Database, org_id: &str) -> Result<Option<OrgRow>, sqlx::Error> {
    fetch_optional(db, include_str!("info.sql"), &[Arg::Text(org_id)]).await
}

/// The org this person administers.
pub async fn of_admin(db: &Database, person_id: &str) -> Result<Option<OrgRow>, sqlx::Error> {
    fetch_optional(db, include_str!("of_admin.sql"), &[Arg::Text(person_id)]).await
}

/// An org a person is bound to.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BoundOrg {
    pub org_id: String,
    pub name: String,
    pub code: String,
    pub bound_at: i64,
}

/// The orgs a person is bound to, oldest binding first.
pub async fn of_member(db: &Database, person_id: &str) -> Result<Vec<BoundOrg>, sqlx::Error> {
    fetch_all(db, include_str!("of_member.sql"), &[Arg::Text(person_id)]).await
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct Count {
    n: i64,
}

/// Members bound at the instant `at` (Unix seconds).
pub async fn members_before(db: &Database, org_id: &str, before: i64) -> Result<i64, sqlx::Error> {
    let rows: Vec<Count> = fetch_all(
        db,
        include_str!("members_by_day.sql"),
        &[Arg::Text(org_id), Arg::Int(before)],
    )
    .await?;
    Ok(rows.first().map_or(0, |c| c.n))
}

/// One day's declaration figures.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DayRow {
    /// Distinct persons who declared.
    pub declared: i64,
    /// Declarations filed.
    pub declarations: i64,
    /// Persons whose latest declaration of the day has fever.
    pub fever: i64,
    /// Persons whose latest declaration of the day reports symptoms.
    pub symptoms: i64,
    /// Of `declared`, those who were members at the end of the day.
    pub declared_members: i64,
}

/// The figures of `day` (`YYYY-MM-DD`), whose end is `day_end` (Unix seconds).
pub async fn day(
    db: &Database,
    org_id: &str,
    day: &str,
    day_end: i64,
) -> Result<DayRow, sqlx::Error> {
    let rows: Vec<DayRow> = fetch_all(
        db,
        include_str!("day.sql"),
        &[Arg::Text(org_id), Arg::Text(day), Arg::Int(day_end)],
    )
    .await?;
    Ok(rows.into_iter().next().unwrap_or(DayRow {
        declared: 0,
        declarations: 0,
        fever: 0,
        symptoms: 0,
        declared_members: 0,
    }))
}
