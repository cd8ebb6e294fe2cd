//! A person's own histories, newest first: declarations, entry registrations, temperature
//! checks, notices (appeal decisions, release notices) and the access log (who read their
//! data). Items hold no personal data: they are shown to the person as they are.

use async_trait::async_trait;
use domain::access::AccessEvent;
use domain::identity::IdentityEvent;
use domain::medical::NoticeEvent;
use domain::person::PersonEvent;
use domain::streams;
use domain::venue::{CheckInEvent, ScanEvent};
use event_store::{Backend, Database, RecordedEvent};
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::query::{decode, fetch_all, stream_id, Arg};
use crate::{Projection, ProjectionError, Tables, Tx};

#[derive(Debug, Clone, Copy)]
pub struct Histories;

/// The lists a person can page through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryKind {
    Declarations,
    Entries,
    Checks,
    Notices,
    AccessLog,
}

impl HistoryKind {
    fn as_str(self) -> &'static str {
        match self {
            HistoryKind::Declarations => "declaration",
            HistoryKind::Entries => "entry",
            HistoryKind::Checks => "check",
            HistoryKind::Notices => "notice",
            HistoryKind::AccessLog => "access",
        }
    }
}

/// Times as the API shows them: China Standard Time, whole seconds.
fn rfc3339(at: OffsetDateTime) -> String {
    at.to_offset(domain::week::CST)
        .replace_nanosecond(0)
        .unwrap_or(at)
        .format(&Rfc3339)
        .unwrap_or_default()
}

async fn insert(
    tx: &mut Tx,
    tables: &Tables,
    person_id: &str,
    kind: HistoryKind,
    position: u64,
    body: serde_json::Value,
) -> Result<(), ProjectionError> {
    let body = body.to_string();
    let position = i64::try_from(position).unwrap_or(i64::MAX);
    tx.exec(
        &tables.sql(include_str!("insert.sql")),
        &[
            Arg::Text(person_id),
            Arg::Text(kind.as_str()),
            Arg::Int(position),
            Arg::Text(&body),
        ],
    )
    .await?;
    Ok(())
}

#[async_trait]
impl Projection for Histories {
    fn name(&self) -> &'static str {
        "histories"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["history"]
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
            if let Some(person) = stream_id(&e.stream, streams::PERSON) {
                match decode::<PersonEvent>(e)? {
                    PersonEvent::DeclarationFiled {
                        declaration_id,
                        by,
                        org_id,
                        declaration,
                        at,
                    } => {
                        let body = json!({
                            "declaration_id": declaration_id,
                            "subject_id": person,
                            "filed_by": by,
                            "org_id": org_id,
                            "temperature_c": declaration.temperature_c.map(f64::from),
                            "band": declaration.band,
                            "symptoms": declaration.symptoms,
                            "contact_14d": declaration.contact_14d,
                            "visited": declaration.visited,
                            "region": declaration.region,
                            "filed_at": rfc3339(at),
                        });
                        insert(
                            tx,
                            tables,
                            person,
                            HistoryKind::Declarations,
                            e.position,
                            body,
                        )
                        .await?;
                    }
                    PersonEvent::EntryRegistered {
                        entry_id,
                        entry,
                        at,
                    } => {
                        let body = json!({
                            "entry_id": entry_id,
                            "origin": entry.origin,
                            "transport": entry.transport,
                            "trip_number": entry.trip_number,
                            "arrival_date": entry.arrival_date.to_string(),
                            "destination": entry.destination,
                            "registered_at": rfc3339(at),
                        });
                        insert(tx, tables, person, HistoryKind::Entries, e.position, body).await?;
                    }
                    PersonEvent::PersonCreated { .. }
                    | PersonEvent::FamilyMemberAdded { .. }
                    | PersonEvent::FamilyMemberRemoved { .. }
                    | PersonEvent::GuardianLinked { .. }
                    | PersonEvent::GuardianUnlinked { .. } => {}
                }
            } else if stream_id(&e.stream, streams::IDENTITY).is_some() {
                match decode::<IdentityEvent>(e)? {
                    IdentityEvent::AppealDecided {
                        appeal_id,
                        person_id,
                        reason,
                        granted,
                        detail,
                        at,
                    } => {
                        let body = json!({
                            "kind": "appeal_decision",
                            "appeal_id": appeal_id,
                            "reason": reason,
                            "granted": granted,
                            "detail": detail,
                            "issued_at": rfc3339(at),
                        });
                        insert(
                            tx,
                            tables,
                            &person_id.to_string(),
                            HistoryKind::Notices,
                            e.position,
                            body,
                        )
                        .await?;
                    }
                    IdentityEvent::PersonRegistered { .. }
                    | IdentityEvent::RedReasonHit { .. }
                    | IdentityEvent::RedReasonRestored { .. }
                    | IdentityEvent::RedReasonReleased { .. }
                    | IdentityEvent::AppealFiled { .. }
                    | IdentityEvent::PersonalDataShredded { .. } => {}
                }
            } else if stream_id(&e.stream, streams::SCAN).is_some() {
                if let ScanEvent::TemperatureChecked {
                    check_id,
                    venue_id,
                    subject,
                    band,
                    at,
                    ..
                } = decode::<ScanEvent>(e)?
                {
                    let body = json!({
                        "check_id": check_id,
                        "kind": "temperature_check",
                        "venue_id": venue_id,
                        "band": band,
                        "at": rfc3339(at),
                    });
                    let subject = subject.to_string();
                    insert(tx, tables, &subject, HistoryKind::Checks, e.position, body).await?;
                }
            } else if stream_id(&e.stream, streams::CHECKIN).is_some() {
                match decode::<CheckInEvent>(e)? {
                    CheckInEvent::CheckedIn {
                        check_id,
                        venue_id,
                        subject,
                        at,
                        ..
                    } => {
                        let body = json!({
                            "check_id": check_id,
                            "kind": "quick_check_in",
                            "venue_id": venue_id,
                            "band": domain::health::Band::Normal.as_str(),
                            "at": rfc3339(at),
                        });
                        let subject = subject.to_string();
                        insert(tx, tables, &subject, HistoryKind::Checks, e.position, body).await?;
                    }
                }
            } else if stream_id(&e.stream, streams::NOTICE).is_some() {
                let (subject, body) = match decode::<NoticeEvent>(e)? {
                    NoticeEvent::NoticeIssued {
                        notice_id,
                        number,
                        posting,
                        subject,
                        observation_from,
                        observation_to,
                        reasons,
                        at,
                        ..
                    } => (
                        subject,
                        json!({
                            "kind": "release_notice",
                            "notice_id": notice_id,
                            "number": number,
                            "reasons": reasons,
                            "observation_from": observation_from.to_string(),
                            "observation_to": observation_to.to_string(),
                            "unit": posting.unit,
                            "position": posting.position,
                            "issued_at": rfc3339(at),
                        }),
                    ),
                    NoticeEvent::NoticeWithdrawn {
                        notice_id,
                        number,
                        subject,
                        detail,
                        at,
                        ..
                    } => (
                        subject,
                        json!({
                            "kind": "notice_withdrawal",
                            "notice_id": notice_id,
                            "number": number,
                            "detail": detail,
                            "issued_at": rfc3339(at),
                        }),
                    ),
                };
                let subject = subject.to_string();
                insert(tx, tables, &subject, HistoryKind::Notices, e.position, body).await?;
            } else if let Some(person) = stream_id(&e.stream, streams::ACCESS) {
                match decode::<AccessEvent>(e)? {
                    AccessEvent::PersonalDataAccessed { accessor, data, at } => {
                        let body = json!({
                            "accessor": accessor,
                            "data": data,
                            "at": rfc3339(at),
                        });
                        insert(tx, tables, person, HistoryKind::AccessLog, e.position, body)
                            .await?;
                    }
                }
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct ItemRow {
    position: i64,
    body: String,
}

/// One page of a person's history, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<serde_json::Value>,
    /// The cursor of the next page (a log position), when there is one.
    pub next: Option<u64>,
}

/// Up to `limit` items of `kind` older than the cursor `before` (all when `None`), of the
/// person known by any of `names` (their id, and for checks their pseudonyms of the days still
/// kept: retention).
pub async fn page(
    db: &Database,
    names: &[String],
    kind: HistoryKind,
    before: Option<u64>,
    limit: u32,
) -> Result<Page, sqlx::Error> {
    let before = before.map_or(i64::MAX, |b| i64::try_from(b).unwrap_or(i64::MAX));
    // page.sql names one person as `$1`; more names widen it to `IN ($1, $5, $6, …)`.
    let sql = match names.len() {
        0 | 1 => include_str!("page.sql").to_owned(),
        n => {
            let more: Vec<String> = (5..n + 4).map(|i| format!("${i}")).collect();
            include_str!("page.sql").replace(
                "person_id = $1",
                &format!("person_id IN ($1, {})", more.join(", ")),
            )
        }
    };
    let first = names.first().map_or("", String::as_str);
    let limit_plus_one = i64::from(limit) + 1;
    let mut args = vec![
        Arg::Text(first),
        Arg::Text(kind.as_str()),
        Arg::Int(before),
        Arg::Int(limit_plus_one),
    ];
    args.extend(names.iter().skip(1).map(|n| Arg::Text(n)));
    let rows: Vec<ItemRow> = fetch_all(db, &sql, &args).await?;
    let more = rows.len() > limit as usize;
    let rows: Vec<ItemRow> = rows.into_iter().take(limit as usize).collect();
    let next = if more {
        rows.last().and_then(|r| u64::try_from(r.position).ok())
    } else {
        None
    };
    let items = rows
        .into_iter()
        .map(|r| serde_json::from_str(&r.body).map_err(|e| sqlx::Error::Decode(Box::new(e))))
        .collect::<Result<_, _>>()?;
    Ok(Page { items, next })
}
