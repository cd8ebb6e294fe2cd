//! Audit: the global log paged for auditors, any stream and its aggregate's state as of an
//! instant, the hash-chain verification, and the pseudonymised export.

pub mod export;

use domain::assertion::Assertion;
use domain::claim::Claim;
use domain::feed::FeedRecord;
use domain::identity::Identity;
use domain::medical::{MedicalScan, MedicalStaff, Notice, NoticeNumbers};
use domain::org::{Membership, Org};
use domain::person::Person;
use domain::region::Region;
use domain::role_grant::RoleGrants;
use domain::service_account::ServiceAccount;
use domain::streams as category;
use domain::{Decider, DomainEvent};
use event_store::{EventReader, EventStore, RecordedEvent, StreamId};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use commands::{CommandContext, Decision};
use domain::access::{AccessEvent, AccessedData, Accessor};
use domain::identity::PersonId;

use crate::auth::Principal;
use crate::page::{Page, PageRequest};
use crate::{ServiceError, ServiceResult, Services};

/// One event as an auditor sees it: the payload as stored (personal fields inside are
/// sealed, never in clear text).
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub position: u64,
    pub stream: String,
    pub version: u64,
    pub event_type: String,
    pub schema_version: u32,
    pub recorded_at: OffsetDateTime,
    /// Who caused it (a person or service-account id, or `operator`).
    pub actor: Option<String>,
    pub data: serde_json::Value,
}

fn entry(event: RecordedEvent) -> ServiceResult<AuditEntry> {
    let actor = event.metadata().map_err(ServiceError::internal)?.actor;
    Ok(AuditEntry {
        data: serde_json::from_str(&event.payload)?,
        recorded_at: event.recorded_at,
        position: event.position,
        stream: event.stream,
        version: event.version,
        event_type: event.event_type,
        schema_version: event.schema_version,
        actor,
    })
}

/// A page of the log in position order after the cursor, optionally of one stream and one
/// event type.
pub async fn events(
    store: &EventStore,
    page: PageRequest,
    stream: Option<&str>,
    event_type: Option<&str>,
) -> ServiceResult<Page<AuditEntry>> {
    let events = store
        .read_filtered(page.after.unwrap_or(0), page.limit, stream, event_type)
        .await?;
    let next = (events.len() == page.limit as usize)
        .then(|| events.last().map(|e| e.position.to_string()))
        .flatten();
    Ok(Page {
        items: events.into_iter().map(entry).collect::<Result<_, _>>()?,
        next,
    })
}

/// A stream as recorded by an instant, and its aggregate's state then.
#[derive(Debug, Clone)]
pub struct StreamAsOf {
    pub stream: StreamId,
    pub as_of: OffsetDateTime,
    /// The stream's version at `as_of`.
    pub version: u64,
    pub events: Vec<AuditEntry>,
    /// The aggregate's state folded from those events, for the aggregates this version
    /// knows; `null` otherwise.
    pub state: serde_json::Value,
}

/// The stream `stream` (as the path names it) as recorded by `as_of` (RFC 3339; now when
/// absent): `404 stream.unknown` when nothing of it was recorded by then.
pub async fn stream_as_of(
    store: &EventStore,
    stream: &str,
    as_of: Option<&str>,
) -> ServiceResult<StreamAsOf> {
    let as_of = match as_of {
        None => store.clock().now(),
        Some(raw) => OffsetDateTime::parse(raw, &Rfc3339).map_err(|_| {
            ServiceError::invalid(
                "as_of",
                "time.rfc3339",
                "as_of must be an RFC 3339 instant with offset",
            )
        })?,
    };
    let id = StreamId::parse(stream.to_owned())
        .map_err(|why| ServiceError::invalid("stream", "stream.id", why))?;
    let events = store.read_stream(&id, Some(as_of)).await?;
    if events.is_empty() {
        return Err(ServiceError::not_found(
            "stream.unknown",
            format!("no event of stream {id} was recorded by {as_of}"),
        ));
    }
    let state = fold_state(id.as_str(), &events)?;
    Ok(StreamAsOf {
        version: events.last().map_or(0, |e| e.version),
        events: events.into_iter().map(entry).collect::<Result<_, _>>()?,
        stream: id,
        as_of,
        state,
    })
}

/// The person whose own data `found` holds (their person, access or identity stream), if any.
fn person_of(found: &StreamAsOf) -> Option<PersonId> {
    let (kind, id) = category::split(found.stream.as_str())?;
    match kind {
        category::PERSON | category::ACCESS => PersonId::parse(id),
        category::IDENTITY => serde_json::from_value::<PersonRef>(found.state.clone())
            .ok()
            .and_then(|state| state.person_id),
        _ => None,
    }
}

/// The registered person of an identity's state, as folded.
#[derive(Debug, serde::Deserialize)]
struct PersonRef {
    person_id: Option<PersonId>,
}

/// The stream `stream` as of `as_of`, read by `reader` (an auditor): when it is one person's
/// own stream (their declarations and family, their red reasons, who read their data), the
/// read is recorded in that person's access log, whoever the auditor is (a service account or
/// a person granted the role).
pub async fn read_stream(
    services: &Services,
    reader: &Principal,
    stream: &str,
    as_of: Option<&str>,
) -> ServiceResult<StreamAsOf> {
    let found = stream_as_of(services.bus.store(), stream, as_of).await?;
    if let Some(person) = person_of(&found) {
        record_history_read(services, reader, person).await?;
    }
    Ok(found)
}

/// A page of the log as `reader` (an auditor) asks for it: when it is filtered to one person's
/// own stream and holds events, the read is recorded in that person's access log, as for
/// [`read_stream`].
pub async fn events_read_by(
    services: &Services,
    reader: &Principal,
    page: PageRequest,
    stream: Option<&str>,
    event_type: Option<&str>,
) -> ServiceResult<Page<AuditEntry>> {
    let found = events(services.bus.store(), page, stream, event_type).await?;
    if found.items.is_empty() {
        return Ok(found);
    }
    let Some(stream) = stream else {
        return Ok(found);
    };
    let owner = match category::split(stream) {
        Some((category::PERSON | category::ACCESS, id)) => PersonId::parse(id),
        Some((category::IDENTITY, _)) => {
            let id = StreamId::parse(stream.to_owned())
                .map_err(|why| ServiceError::invalid("stream", "stream.id", why))?;
            let events = services.bus.store().read_stream(&id, None).await?;
            serde_json::from_value::<PersonRef>(fold_state(stream, &events)?)
                .ok()
                .and_then(|state| state.person_id)
        }
        _ => None,
    };
    if let Some(person) = owner {
        record_history_read(services, reader, person).await?;
    }
    Ok(found)
}

/// Records in `person`'s access log that the auditor `reader` read their own data.
async fn record_history_read(
    services: &Services,
    reader: &Principal,
    person: PersonId,
) -> ServiceResult<()> {
    let accessor = match reader {
        Principal::ServiceAccount { account_id, .. } => Accessor::Service {
            account_id: account_id.clone(),
        },
        Principal::Person { person_id } => Accessor::Auditor {
            person_id: *person_id,
        },
    };
    let accessed = AccessEvent::PersonalDataAccessed {
        accessor,
        data: AccessedData::History,
        at: services.now(),
    };
    let ctx = CommandContext::new(reader.actor());
    let a_stream = crate::streams::access(person);
    services
        .bus
        .execute(&ctx, &[], |_| {
            Ok::<_, ServiceError>(
                Decision::unchanged(())
                    .append(a_stream.clone(), std::slice::from_ref(&accessed))?,
            )
        })
        .await?;
    Ok(())
}

/// The state of the aggregate a stream holds, after `events`.
fn fold_state(stream: &str, events: &[RecordedEvent]) -> ServiceResult<serde_json::Value> {
    let Some((kind, _)) = category::split(stream) else {
        return Ok(serde_json::Value::Null);
    };
    match kind {
        category::SERVICE_ACCOUNT => fold::<ServiceAccount>(events),
        category::IDENTITY => fold::<Identity>(events),
        category::PERSON => fold::<Person>(events),
        category::REGION => fold::<Region>(events),
        category::ASSERTION => fold::<Assertion>(events),
        category::FEED_RECORD => fold::<FeedRecord>(events),
        category::ORG_MEMBER => fold::<Membership>(events),
        category::ORG_ADMIN | category::CODE => fold::<Claim>(events),
        category::ORG => fold::<Org>(events),
        category::MEDICAL_STAFF => fold::<MedicalStaff>(events),
        category::MEDICAL_SCAN => fold::<MedicalScan>(events),
        category::NOTICE => fold::<Notice>(events),
        category::NOTICE_NUMBER => fold::<NoticeNumbers>(events),
        category::ROLE_GRANT => fold::<RoleGrants>(events),
        // Venues, their claims and bindings, scans and check-ins answer no state yet (as
        // before the layering; folding them is a change of the audit contract of its own).
        _ => Ok(serde_json::Value::Null),
    }
}

fn fold<D>(events: &[RecordedEvent]) -> ServiceResult<serde_json::Value>
where
    D: Decider,
    D::Event: DomainEvent,
    D::State: serde::Serialize,
{
    let decoded = events
        .iter()
        .map(|e| D::Event::decode(&e.event_type, e.schema_version, &e.payload))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(serde_json::to_value(D::fold(&decoded))?)
}

/// The hash chain walked: how many events were checked and the first bad position.
pub use event_store::VerifyReport;

/// Walks the whole log's hash chain; `anchor` is a position the log is known to have reached
/// (projection checkpoints witness it), so a removed tail is found too.
pub async fn verify(store: &EventStore, anchor: u64) -> ServiceResult<VerifyReport> {
    store
        .verify_reaching(anchor)
        .await
        .map_err(ServiceError::internal)
}
