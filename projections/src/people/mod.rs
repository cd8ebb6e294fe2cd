//! People, family links and region admin seats: who a session's person is, whom they may act
//! for, and which roles the log gives them. Personal fields stay sealed here and are dropped
//! when the subject's key is shredded.

use async_trait::async_trait;
use domain::identity::IdentityEvent;
use domain::person::PersonEvent;
use domain::region::RegionEvent;
use domain::streams;
use event_store::{Backend, Database, RecordedEvent};

use crate::query::{decode, fetch_all, fetch_optional, stream_id, Arg};
use crate::{Projection, ProjectionError, Tables, Tx};

#[derive(Debug, Clone, Copy)]
pub struct People;

#[async_trait]
impl Projection for People {
    fn name(&self) -> &'static str {
        "people"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["people", "family", "region_admins"]
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
            if let Some(digest) = stream_id(&e.stream, streams::IDENTITY) {
                match decode::<IdentityEvent>(e)? {
                    IdentityEvent::PersonRegistered {
                        person_id,
                        document_kind,
                        profile,
                        sex,
                        birth_date,
                        at,
                    } => {
                        let person_id = person_id.to_string();
                        let sex = sex.map(domain::demographics::Sex::as_str);
                        let birth_date = birth_date.map(|d| d.to_string());
                        tx.exec(
                            &tables.sql(include_str!("register.sql")),
                            &[
                                Arg::Text(&person_id),
                                Arg::Text(digest),
                                Arg::Text(&document_kind),
                                Arg::Text(profile.as_str()),
                                Arg::OptText(sex),
                                Arg::OptText(birth_date.as_deref()),
                                Arg::Int(at.unix_timestamp()),
                            ],
                        )
                        .await?;
                    }
                    IdentityEvent::PersonalDataShredded { .. } => {
                        tx.exec(&tables.sql(include_str!("shred.sql")), &[Arg::Text(digest)])
                            .await?;
                    }
                    IdentityEvent::RedReasonHit { .. }
                    | IdentityEvent::RedReasonRestored { .. }
                    | IdentityEvent::RedReasonReleased { .. }
                    | IdentityEvent::AppealFiled { .. }
                    | IdentityEvent::AppealDecided { .. } => {}
                }
            } else if let Some(guardian) = stream_id(&e.stream, streams::PERSON) {
                match decode::<PersonEvent>(e)? {
                    PersonEvent::FamilyMemberAdded {
                        member,
                        relation,
                        at,
                    } => {
                        let member = member.to_string();
                        tx.exec(
                            &tables.sql(include_str!("add_member.sql")),
                            &[
                                Arg::Text(guardian),
                                Arg::Text(&member),
                                Arg::Text(relation.as_str()),
                                Arg::Int(at.unix_timestamp()),
                            ],
                        )
                        .await?;
                    }
                    PersonEvent::FamilyMemberRemoved { member, .. } => {
                        let member = member.to_string();
                        tx.exec(
                            &tables.sql(include_str!("remove_member.sql")),
                            &[Arg::Text(guardian), Arg::Text(&member)],
                        )
                        .await?;
                    }
                    PersonEvent::PersonCreated { .. }
                    | PersonEvent::DeclarationFiled { .. }
                    | PersonEvent::EntryRegistered { .. }
                    | PersonEvent::GuardianLinked { .. }
                    | PersonEvent::GuardianUnlinked { .. } => {}
                }
            } else if stream_id(&e.stream, streams::REGION).is_some() {
                match decode::<RegionEvent>(e)? {
                    RegionEvent::RegionAdminAppointed {
                        region, admin, at, ..
                    } => {
                        tx.exec(
                            &tables.sql(include_str!("appoint.sql")),
                            &[
                                Arg::Text(region.as_str()),
                                Arg::Text(admin.as_str()),
                                Arg::Int(at.unix_timestamp()),
                            ],
                        )
                        .await?;
                    }
                    RegionEvent::RegionAdminRevoked { region, admin, .. } => {
                        tx.exec(
                            &tables.sql(include_str!("revoke.sql")),
                            &[Arg::Text(region.as_str()), Arg::Text(admin.as_str())],
                        )
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// A registered person as the read model holds them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PersonRow {
    pub person_id: String,
    pub digest: String,
    pub document_kind: String,
    /// Sealed name, phone and document; `None` once shredded.
    pub profile: Option<String>,
    pub sex: Option<String>,
    pub birth_date: Option<String>,
    pub registered_at: i64,
}

/// The person with this id.
pub async fn person(db: &Database, person_id: &str) -> Result<Option<PersonRow>, sqlx::Error> {
    fetch_optional(db, include_str!("by_id.sql"), &[Arg::Text(person_id)]).await
}

/// A family member of a guardian.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MemberRow {
    pub person_id: String,
    pub relation: String,
    pub digest: String,
    pub profile: Option<String>,
}

/// The guardian's family members, oldest first.
pub async fn family(db: &Database, guardian: &str) -> Result<Vec<MemberRow>, sqlx::Error> {
    fetch_all(db, include_str!("family_of.sql"), &[Arg::Text(guardian)]).await
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct RegionRow {
    region: String,
}

/// The regions whose admin holds this document digest.
pub async fn admin_regions(db: &Database, digest: &str) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<RegionRow> =
        fetch_all(db, include_str!("regions_of.sql"), &[Arg::Text(digest)]).await?;
    Ok(rows.into_iter().map(|r| r.region).collect())
}
