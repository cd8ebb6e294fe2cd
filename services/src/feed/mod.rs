//! The red-code feed: batches of hit and release records (each accepted once, all of a
//! batch in one atomic append), the appeals waiting for the feed, and its decisions.

pub mod import;

use std::collections::BTreeMap;

use crate::citizens::{digest_of, parse_name, sealed, Profile};
use commands::CommandContext;
use domain::document::Document;
use domain::document::DocumentDigest;
use domain::feed::{ClaimFeedRecord, FeedRecord, FeedRecordId, FeedRecordState};
use domain::identity::{
    release_record_across, Identity, IdentityCommand, IdentityError, IdentityState, RedReason,
};
use domain::region::RegionCode;
use domain::sealed::Sealed;
use domain::week::today;
use domain::Decider;
use event_store::StreamId;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::ServiceError;
use crate::page::{Page, PageRequest};
use crate::streams;
use crate::support::{Appends, Done};
use crate::Services;

/// A feed record as sent.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct FeedRecordInput {
    pub record_id: String,
    pub document: DocumentInput,
    pub name: String,
    /// `confirmed`, `suspected`, `close_contact`, `high_risk_arrival`,
    /// `centralised_quarantine` or `home_quarantine`.
    pub reason: String,
    /// `hit` or `release`.
    pub action: String,
    /// RFC 3339 instant the status takes effect.
    pub effective_at: String,
    /// Division code of the region of residence.
    pub region: Option<String>,
}

/// `{"type","number"}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DocumentInput {
    /// `resident_id`, `hk_macao_permit`, `passport` or `birth_certificate`.
    #[serde(rename = "type")]
    pub kind: String,
    pub number: String,
}

/// A refused record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedRecord {
    pub record_id: String,
    pub code: String,
    pub detail: String,
}

/// Each record's outcome.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BatchOutcome {
    pub accepted: Vec<String>,
    pub duplicates: Vec<String>,
    pub refused: Vec<RefusedRecord>,
}

/// Most records in one batch.
pub const MAX_BATCH: usize = 1000;

#[derive(Debug, Clone)]
enum Action {
    Hit {
        region: Option<String>,
        name: Sealed,
    },
    Release,
}

#[derive(Debug, Clone)]
struct ParsedRecord {
    record_id: FeedRecordId,
    digest: DocumentDigest,
    reason: RedReason,
    effective_at: OffsetDateTime,
    action: Action,
}

fn refuse(record_id: &str, code: &str, detail: impl Into<String>) -> RefusedRecord {
    RefusedRecord {
        record_id: record_id.to_owned(),
        code: code.to_owned(),
        detail: detail.into(),
    }
}

async fn parse_record(
    services: &Services,
    input: &FeedRecordInput,
    now: OffsetDateTime,
) -> Result<Result<ParsedRecord, RefusedRecord>, ServiceError> {
    let rid = input.record_id.as_str();
    let record_id = match FeedRecordId::parse(rid) {
        Ok(id) => id,
        Err(why) => return Ok(Err(refuse(rid, "record.id", why))),
    };
    let document = match Document::parse(&input.document.kind, &input.document.number, today(now)) {
        Ok(d) => d,
        Err(e) => {
            return Ok(Err(refuse(
                rid,
                e.code,
                format!("{}: {}", e.field, e.detail),
            )))
        }
    };
    let Some(reason) = RedReason::parse(&input.reason) else {
        return Ok(Err(refuse(
            rid,
            "record.reason",
            format!(
                "{:?} is not a red reason: use {}",
                input.reason,
                RedReason::ALL.map(RedReason::as_str).join(", ")
            ),
        )));
    };
    let Ok(effective_at) = OffsetDateTime::parse(&input.effective_at, &Rfc3339) else {
        return Ok(Err(refuse(
            rid,
            "record.effective_at",
            "effective_at is an RFC 3339 instant with offset",
        )));
    };
    if effective_at > now + time::Duration::minutes(5) {
        return Ok(Err(refuse(
            rid,
            "record.effective_at_future",
            "effective_at lies in the future",
        )));
    }
    let region = match input.region.as_deref() {
        None => None,
        Some(raw) => match RegionCode::parse(raw, "region") {
            Ok(r) => Some(r.as_str().to_owned()),
            Err(e) => return Ok(Err(refuse(rid, e.code, e.detail))),
        },
    };
    let name = match parse_name(&input.name, "name") {
        Ok(n) => n,
        Err(_) => {
            return Ok(Err(refuse(
                rid,
                "name.format",
                "a name has 1 to 50 characters",
            )))
        }
    };
    let digest = digest_of(&services.keys, &document)?;
    let action = match input.action.as_str() {
        "hit" => {
            let subject = Profile {
                name,
                phone: None,
                document_type: document.kind().to_owned(),
                document_number: document.number().to_owned(),
            };
            let name = services
                .vault
                .seal_json(digest.as_str(), &subject)
                .await
                .map_err(ServiceError::internal)?;
            Action::Hit {
                region,
                name: sealed(name),
            }
        }
        "release" => Action::Release,
        other => {
            return Ok(Err(refuse(
                rid,
                "record.action",
                format!("{other:?} is not an action: use hit or release"),
            )))
        }
    };
    Ok(Ok(ParsedRecord {
        record_id,
        digest,
        reason,
        effective_at,
        action,
    }))
}

/// Applies a batch of feed records: each accepted (all its events appended in one atomic
/// append with the others), a duplicate of an accepted record id, or refused with a code.
pub async fn apply_batch(
    services: &Services,
    ctx: &CommandContext,
    records: &[FeedRecordInput],
) -> Result<commands::Outcome<BatchOutcome>, ServiceError> {
    if records.len() > MAX_BATCH {
        return Err(ServiceError::invalid(
            "records",
            "feed.batch_too_large",
            format!("send at most {MAX_BATCH} records a batch"),
        ));
    }
    let now = services.now();
    // Parse (and seal) every record first; a refused one never touches the log.
    let mut parsed = Vec::with_capacity(records.len());
    for input in records {
        parsed.push(parse_record(services, input, now).await?);
    }
    // A release applies to the person the document belongs to, on whichever of their
    // documents holds the reason: their other documents are loaded too.
    let mut others: BTreeMap<DocumentDigest, Vec<DocumentDigest>> = BTreeMap::new();
    for record in parsed.iter().flatten() {
        if matches!(record.action, Action::Release) && !others.contains_key(&record.digest) {
            let theirs = other_documents(services, &record.digest).await?;
            others.insert(record.digest.clone(), theirs);
        }
    }
    let mut streams: Vec<StreamId> = Vec::new();
    for record in parsed.iter().flatten() {
        let also = others.get(&record.digest).into_iter().flatten();
        for s in [
            streams::feed_record(&record.record_id),
            streams::identity(&record.digest),
        ]
        .into_iter()
        .chain(also.map(streams::identity))
        {
            if !streams.contains(&s) {
                streams.push(s);
            }
        }
    }
    Ok(services
        .bus
        .execute(ctx, &streams, |loaded| {
            let mut outcome = BatchOutcome::default();
            let mut appends = Appends::default();
            let mut identities: BTreeMap<DocumentDigest, IdentityState> = BTreeMap::new();
            let mut claimed: Vec<FeedRecordId> = Vec::new();
            for (input, record) in records.iter().zip(&parsed) {
                let record = match record {
                    Ok(r) => r,
                    Err(refused) => {
                        outcome.refused.push(refused.clone());
                        continue;
                    }
                };
                let r_stream = streams::feed_record(&record.record_id);
                let claim_state = if claimed.contains(&record.record_id) {
                    FeedRecordState::Accepted
                } else {
                    loaded.fold::<FeedRecord>(&r_stream)?
                };
                let claim = match FeedRecord::decide(
                    &ClaimFeedRecord {
                        digest: record.digest.clone(),
                        at: now,
                    },
                    &claim_state,
                ) {
                    Ok(events) => events,
                    Err(_) => {
                        outcome.duplicates.push(input.record_id.clone());
                        continue;
                    }
                };
                let i_stream = streams::identity(&record.digest);
                let state = match identities.remove(&record.digest) {
                    Some(s) => s,
                    None => loaded.fold::<Identity>(&i_stream)?,
                };
                let command = match &record.action {
                    Action::Hit { region, name } => IdentityCommand::RecordHit {
                        record_id: record.record_id.clone(),
                        reason: record.reason,
                        effective_at: record.effective_at,
                        region: region.clone(),
                        name: name.clone(),
                        at: now,
                    },
                    Action::Release => IdentityCommand::RecordRelease {
                        record_id: record.record_id.clone(),
                        reason: record.reason,
                        effective_at: record.effective_at,
                        at: now,
                    },
                };
                let also: &[DocumentDigest] = others.get(&record.digest).map_or(&[], Vec::as_slice);
                let mut other_states = Vec::with_capacity(also.len());
                for digest in also {
                    other_states.push(match identities.remove(digest) {
                        Some(s) => s,
                        None => loaded.fold::<Identity>(&streams::identity(digest))?,
                    });
                }
                let decided = match &record.action {
                    Action::Hit { .. } => Identity::decide(&command, &state)
                        .map(|own| (own, vec![Vec::new(); also.len()])),
                    Action::Release => release_record_across(&state, &other_states, &command),
                };
                let (events, elsewhere) = match decided {
                    Ok((own, elsewhere)) => (Ok(own), elsewhere),
                    Err(e) => (Err(e), vec![Vec::new(); also.len()]),
                };
                for ((digest, other), more) in also.iter().zip(other_states).zip(&elsewhere) {
                    appends.push(&streams::identity(digest), more)?;
                    identities.insert(digest.clone(), more.iter().fold(other, Identity::evolve));
                }
                match events {
                    Ok(events) => {
                        let state = events.iter().fold(state, Identity::evolve);
                        identities.insert(record.digest.clone(), state);
                        appends.push(&r_stream, &claim)?;
                        appends.push(&i_stream, &events)?;
                        claimed.push(record.record_id.clone());
                        outcome.accepted.push(input.record_id.clone());
                    }
                    Err(e) => {
                        identities.insert(record.digest.clone(), state);
                        let code = match e {
                            IdentityError::ReleasePrecedesHit { .. } => "feed.release_precedes_hit",
                            IdentityError::ReasonNotActive(_)
                            | IdentityError::AlreadyRegistered(_)
                            | IdentityError::NotRegistered
                            | IdentityError::AppealAlreadyOpen(_)
                            | IdentityError::UnknownAppeal
                            | IdentityError::AppealAlreadyDecided
                            | IdentityError::AppealMoot
                            | IdentityError::DecisionDetail
                            | IdentityError::NoticeReasonNotReleasable(_)
                            | IdentityError::NoticeReasonNotActive(_) => "feed.reason_not_active",
                        };
                        outcome
                            .refused
                            .push(refuse(&input.record_id, code, e.to_string()));
                    }
                }
            }
            Ok::<_, ServiceError>(appends.into_decision(outcome))
        })
        .await?)
}

/// The documents of the person `digest`'s document belongs to, besides that one (none when it
/// belongs to nobody yet).
async fn other_documents(
    services: &Services,
    digest: &DocumentDigest,
) -> Result<Vec<DocumentDigest>, ServiceError> {
    let identity = crate::support::fold::<Identity>(services, &streams::identity(digest)).await?;
    let Some(person) = identity.person_id() else {
        return Ok(Vec::new());
    };
    let (facts, code) = crate::citizens::person_documents(services, person).await?;
    let mut documents = crate::citizens::documents(&facts, &code)?;
    documents.retain(|d| d != digest);
    Ok(documents)
}

/// An appeal waiting for the feed's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAppeal {
    pub appeal_id: String,
    pub reason: String,
    pub record_id: String,
    pub filed_at: OffsetDateTime,
}

/// The open appeals, oldest first, keyset-paged by log position.
pub async fn open_appeals(
    services: &Services,
    page: PageRequest,
) -> Result<Page<OpenAppeal>, ServiceError> {
    let rows = projections::appeals::open(&services.db, page.after.unwrap_or(0), page.limit + 1)
        .await
        .map_err(ServiceError::internal)?;
    let more = rows.len() > page.limit as usize;
    let rows: Vec<_> = rows.into_iter().take(page.limit as usize).collect();
    let next = if more {
        rows.last().map(|r| r.position.to_string())
    } else {
        None
    };
    Ok(Page {
        items: rows
            .into_iter()
            .map(|r| OpenAppeal {
                filed_at: OffsetDateTime::from_unix_timestamp(r.filed_at)
                    .unwrap_or(OffsetDateTime::UNIX_EPOCH),
                appeal_id: r.appeal_id,
                reason: r.reason,
                record_id: r.record_id,
            })
            .collect(),
        next,
    })
}

/// The feed decides the appeal `appeal_id` (as the path names it).
pub async fn decide_appeal(
    services: &Services,
    ctx: &CommandContext,
    appeal_id: &str,
    granted: bool,
    detail: String,
) -> Result<commands::Outcome<Done>, ServiceError> {
    let unknown = || ServiceError::not_found("appeal.unknown", "no such appeal");
    let appeal_id = Uuid::parse_str(appeal_id).map_err(|_| unknown())?;
    let appeal = projections::appeals::by_id(&services.db, &appeal_id.to_string())
        .await
        .map_err(ServiceError::internal)?
        .ok_or_else(unknown)?;
    let digest = DocumentDigest::parse(appeal.digest)
        .map_err(|why| ServiceError::internal(anyhow::anyhow!(why)))?;
    crate::citizens::decide_appeal(services, ctx, &digest, appeal_id, granted, detail).await
}
