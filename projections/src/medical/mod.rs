//! Medical staff and what they issue: the roster (granted staff, their unit and position, the
//! name and phone the roster lists, sealed), the release notices (who issued them for whom,
//! the period, the reasons, whether withdrawn), and the person-held auditor and analyst
//! roles. No personal data in clear: names and phones stay sealed under the subject's key.

use async_trait::async_trait;
use domain::medical::{NoticeEvent, StaffEvent};
use domain::role_grant::RoleGrantEvent;
use domain::streams;
use event_store::{Backend, Database, RecordedEvent};

use crate::query::{decode, fetch_all, fetch_optional, stream_id, Arg};
use crate::{Projection, ProjectionError, Tables, Tx};

#[derive(Debug, Clone, Copy)]
pub struct Medical;

fn seq(position: u64) -> i64 {
    i64::try_from(position).unwrap_or(i64::MAX)
}

#[async_trait]
impl Projection for Medical {
    fn name(&self) -> &'static str {
        "medical"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["medical_staff", "notices", "role_grants"]
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
            if stream_id(&e.stream, streams::MEDICAL_STAFF).is_some() {
                match decode::<StaffEvent>(e)? {
                    StaffEvent::MedicalStaffGranted {
                        person,
                        contact,
                        posting,
                        at,
                        ..
                    } => {
                        let person = person.to_string();
                        tx.exec(
                            &tables.sql(include_str!("grant.sql")),
                            &[
                                Arg::Text(&person),
                                Arg::Text(contact.as_str()),
                                Arg::Text(&posting.unit),
                                Arg::Text(&posting.position),
                                Arg::Int(at.unix_timestamp()),
                                Arg::Int(seq(e.position)),
                            ],
                        )
                        .await?;
                    }
                    StaffEvent::MedicalStaffRevoked { person, at, .. } => {
                        let person = person.to_string();
                        tx.exec(
                            &tables.sql(include_str!("revoke.sql")),
                            &[Arg::Text(&person), Arg::Int(at.unix_timestamp())],
                        )
                        .await?;
                    }
                }
            } else if stream_id(&e.stream, streams::NOTICE).is_some() {
                match decode::<NoticeEvent>(e)? {
                    NoticeEvent::NoticeIssued {
                        notice_id,
                        number,
                        scan_id,
                        staff,
                        posting,
                        subject,
                        observation_from,
                        observation_to,
                        reasons,
                        at,
                    } => {
                        let reasons = serde_json::to_string(&reasons)
                            .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
                        let (notice_id, scan_id) = (notice_id.to_string(), scan_id.to_string());
                        let (staff, subject) = (staff.to_string(), subject.to_string());
                        let (from, to) = (observation_from.to_string(), observation_to.to_string());
                        tx.exec(
                            &tables.sql(include_str!("issue.sql")),
                            &[
                                Arg::Text(&notice_id),
                                Arg::Text(&number),
                                Arg::Text(&scan_id),
                                Arg::Text(&staff),
                                Arg::Text(&subject),
                                Arg::Text(&posting.unit),
                                Arg::Text(&posting.position),
                                Arg::Text(&from),
                                Arg::Text(&to),
                                Arg::Text(&reasons),
                                Arg::Int(at.unix_timestamp()),
                                Arg::Int(seq(e.position)),
                            ],
                        )
                        .await?;
                    }
                    NoticeEvent::NoticeWithdrawn {
                        notice_id,
                        by_role,
                        detail,
                        at,
                        ..
                    } => {
                        let notice_id = notice_id.to_string();
                        let by_role = match by_role {
                            domain::medical::WithdrawnAs::Issuer => "issuer",
                            domain::medical::WithdrawnAs::ProvinceAdmin => "province_admin",
                        };
                        tx.exec(
                            &tables.sql(include_str!("withdraw.sql")),
                            &[
                                Arg::Text(&notice_id),
                                Arg::Int(at.unix_timestamp()),
                                Arg::Text(by_role),
                                Arg::Text(&detail),
                            ],
                        )
                        .await?;
                    }
                }
            } else if stream_id(&e.stream, streams::ROLE_GRANT).is_some() {
                match decode::<RoleGrantEvent>(e)? {
                    RoleGrantEvent::RoleGranted {
                        person, role, at, ..
                    } => {
                        let person = person.to_string();
                        tx.exec(
                            &tables.sql(include_str!("role_grant.sql")),
                            &[
                                Arg::Text(&person),
                                Arg::Text(role.as_str()),
                                Arg::Int(at.unix_timestamp()),
                            ],
                        )
                        .await?;
                    }
                    RoleGrantEvent::RoleRevoked { person, role, .. } => {
                        let person = person.to_string();
                        tx.exec(
                            &tables.sql(include_str!("role_revoke.sql")),
                            &[Arg::Text(&person), Arg::Text(role.as_str())],
                        )
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// A staff member on the roster.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StaffRow {
    pub person_id: String,
    /// Name and phone, sealed with the person's subject key.
    pub contact: String,
    pub unit: String,
    /// The position (职位).
    pub post: String,
    /// Unix seconds.
    pub granted_at: i64,
    /// The grant's log position: the roster's order and cursor.
    pub granted_seq: i64,
    /// Unix seconds; `None` while granted.
    pub revoked_at: Option<i64>,
}

/// Up to `limit` granted staff after the cursor `after` (a grant's log position), in grant order.
pub async fn roster(db: &Database, after: u64, limit: u32) -> Result<Vec<StaffRow>, sqlx::Error> {
    fetch_all(
        db,
        include_str!("roster.sql"),
        &[Arg::Int(seq(after)), Arg::Int(i64::from(limit))],
    )
    .await
}

/// The roster row of `person_id`, granted or not (the row stays after a revocation).
pub async fn staff(db: &Database, person_id: &str) -> Result<Option<StaffRow>, sqlx::Error> {
    fetch_optional(db, include_str!("staff_of.sql"), &[Arg::Text(person_id)]).await
}

/// A release notice.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NoticeRow {
    pub notice_id: String,
    pub number: String,
    pub scan_id: String,
    pub staff: String,
    pub subject: String,
    pub unit: String,
    pub post: String,
    pub observation_from: String,
    pub observation_to: String,
    /// JSON array of reason names.
    pub reasons: String,
    /// Unix seconds.
    pub issued_at: i64,
    /// The log position.
    pub seq: i64,
    pub withdrawn_at: Option<i64>,
    pub withdrawn_as: Option<String>,
    pub withdrawal: Option<String>,
}

/// The notice `notice_id`.
pub async fn notice(db: &Database, notice_id: &str) -> Result<Option<NoticeRow>, sqlx::Error> {
    fetch_optional(
        db,
        include_str!("notice_by_id.sql"),
        &[Arg::Text(notice_id)],
    )
    .await
}

/// Up to `limit` notices `staff` issued before the cursor `before` (a log position; all when
/// `None`), newest first.
pub async fn issued_by(
    db: &Database,
    staff: &str,
    before: Option<u64>,
    limit: u32,
) -> Result<Vec<NoticeRow>, sqlx::Error> {
    let before = before.map_or(i64::MAX, seq);
    fetch_all(
        db,
        include_str!("issued_by.sql"),
        &[
            Arg::Text(staff),
            Arg::Int(before),
            Arg::Int(i64::from(limit)),
        ],
    )
    .await
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct RoleRow {
    role: String,
}

/// The auditor and analyst roles `person_id` holds, as the read model has them.
pub async fn roles_of(db: &Database, person_id: &str) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<RoleRow> =
        fetch_all(db, include_str!("roles_of.sql"), &[Arg::Text(person_id)]).await?;
    Ok(rows.into_iter().map(|r| r.role).collect())
}
