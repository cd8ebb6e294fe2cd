//! A real-name identity, keyed by the keyed hash of its document: who registered with it, the
//! red-code reasons the feed recorded against it (even before registration), and appeals.
//!
//! The stream is `identity-<digest>`. Registration appends here, so one document maps to
//! exactly one person; feed hits for people not yet registered wait here and apply the
//! moment they register.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::demographics::Sex;
use crate::feed::FeedRecordId;
use crate::refusal::{Refusal, RefusalKind, FORBIDDEN};
use crate::sealed::Sealed;
use crate::Decider;

/// A registered person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonId(Uuid);

impl PersonId {
    pub fn new(id: Uuid) -> Self {
        Self(id)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }

    /// Parses a UUID.
    pub fn parse(raw: &str) -> Option<Self> {
        Uuid::parse_str(raw).ok().map(Self)
    }
}

impl std::fmt::Display for PersonId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Why a code is red.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedReason {
    Confirmed,
    Suspected,
    CloseContact,
    HighRiskArrival,
    CentralisedQuarantine,
    HomeQuarantine,
}

impl RedReason {
    pub const ALL: [RedReason; 6] = [
        RedReason::Confirmed,
        RedReason::Suspected,
        RedReason::CloseContact,
        RedReason::HighRiskArrival,
        RedReason::CentralisedQuarantine,
        RedReason::HomeQuarantine,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RedReason::Confirmed => "confirmed",
            RedReason::Suspected => "suspected",
            RedReason::CloseContact => "close_contact",
            RedReason::HighRiskArrival => "high_risk_arrival",
            RedReason::CentralisedQuarantine => "centralised_quarantine",
            RedReason::HomeQuarantine => "home_quarantine",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
    }

    /// The label shown on the code and to a scanner (the guide's own wording).
    pub fn label(self) -> &'static str {
        match self {
            RedReason::Confirmed => "确诊或诊断阳性",
            RedReason::Suspected => "疑似病例",
            RedReason::CloseContact => "密切接触者",
            RedReason::HighRiskArrival => "疫情地高风险来粤人员",
            RedReason::CentralisedQuarantine => "集中隔离人员",
            RedReason::HomeQuarantine => "居家隔离人员",
        }
    }

    /// How this reason is released, for the citizen.
    pub fn guidance(self) -> &'static str {
        match self {
            RedReason::Confirmed => "Follow the treatment of the designated hospital. The code turns green when the health authority reports your recovery and release through the feed.",
            RedReason::Suspected => "Stay where you are and follow the instructions of the local health authority. The code turns green when the suspicion is ruled out and reported through the feed.",
            RedReason::CloseContact => "Complete the medical observation you were assigned. At its end, medical staff issue a release-from-medical-observation notice, which turns the code green.",
            RedReason::HighRiskArrival => "Report to your community and complete the required health monitoring and tests. The code turns green on a release notice or when the feed reports the release.",
            RedReason::CentralisedQuarantine => "Complete the centralised quarantine. On leaving, medical staff issue a release notice, which turns the code green.",
            RedReason::HomeQuarantine => "Stay at home for the period you were given. At its end, medical staff issue a release notice, which turns the code green.",
        }
    }

    /// Whether a medical staff release notice may release this reason (SPEC §8).
    pub fn released_by_notice(self) -> bool {
        match self {
            RedReason::CloseContact
            | RedReason::HighRiskArrival
            | RedReason::CentralisedQuarantine
            | RedReason::HomeQuarantine => true,
            RedReason::Confirmed | RedReason::Suspected => false,
        }
    }
}

/// An appeal against a red reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AppealId(Uuid);

impl AppealId {
    pub fn new(id: Uuid) -> Self {
        Self(id)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl std::fmt::Display for AppealId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// What ended a red reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Release {
    /// A release record of the feed.
    Feed { record_id: FeedRecordId },
    /// A granted appeal.
    Appeal { appeal_id: AppealId },
    /// A medical staff release-from-observation notice.
    Notice { notice_id: Uuid },
}

/// Who registered with the document and what they asserted, all personal fields sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub person_id: PersonId,
    pub document_kind: String,
    /// Name, phone and document number, encrypted with the subject's key.
    pub profile: Sealed,
    pub sex: Option<Sex>,
    pub birth_date: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityCommand {
    Register {
        registration: Registration,
        at: OffsetDateTime,
    },
    RecordHit {
        record_id: FeedRecordId,
        reason: RedReason,
        effective_at: OffsetDateTime,
        region: Option<String>,
        name: Sealed,
        at: OffsetDateTime,
    },
    RecordRelease {
        record_id: FeedRecordId,
        reason: RedReason,
        effective_at: OffsetDateTime,
        at: OffsetDateTime,
    },
    FileAppeal {
        appeal_id: AppealId,
        person_id: PersonId,
        reason: RedReason,
        at: OffsetDateTime,
    },
    DecideAppeal {
        appeal_id: AppealId,
        granted: bool,
        detail: String,
        at: OffsetDateTime,
    },
    /// A release-from-medical-observation notice: releases the reasons it names that a notice
    /// may release and that are active.
    ReleaseByNotice {
        notice_id: Uuid,
        reasons: Vec<RedReason>,
        at: OffsetDateTime,
    },
    /// A withdrawn notice: the reasons it released come back, as recorded before the
    /// release, unless the feed has set them again since.
    RestoreByWithdrawal { notice_id: Uuid, at: OffsetDateTime },
    /// Destroys the subject's data key (the caller deletes it after this is recorded).
    Shred { at: OffsetDateTime },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum IdentityEvent {
    PersonRegistered {
        person_id: PersonId,
        document_kind: String,
        profile: Sealed,
        sex: Option<Sex>,
        birth_date: Option<Date>,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    RedReasonHit {
        record_id: FeedRecordId,
        reason: RedReason,
        #[serde(with = "time::serde::rfc3339")]
        effective_at: OffsetDateTime,
        region: Option<String>,
        name: Sealed,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    RedReasonReleased {
        reason: RedReason,
        release: Release,
        #[serde(with = "time::serde::rfc3339")]
        effective_at: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// A reason released by a notice, back because the notice was withdrawn.
    RedReasonRestored {
        reason: RedReason,
        notice_id: Uuid,
        /// The feed record that set the reason, and since when, as before the release.
        record_id: FeedRecordId,
        #[serde(with = "time::serde::rfc3339")]
        since: OffsetDateTime,
        region: Option<String>,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    AppealFiled {
        appeal_id: AppealId,
        person_id: PersonId,
        reason: RedReason,
        /// The feed record the appealed reason came from.
        record_id: FeedRecordId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    AppealDecided {
        appeal_id: AppealId,
        person_id: PersonId,
        reason: RedReason,
        granted: bool,
        detail: String,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    PersonalDataShredded {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for IdentityEvent {}

/// An active red reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActiveReason {
    pub record_id: FeedRecordId,
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
    /// The region the feed gave with the hit.
    pub region: Option<String>,
}

/// Where an appeal stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum AppealStage {
    /// Waiting for the feed; against the reason as recorded by `record_id`.
    Open {
        reason: RedReason,
        record_id: FeedRecordId,
    },
    Decided {
        reason: RedReason,
        granted: bool,
    },
    /// The appealed reason was released before a decision: nothing left to decide.
    Moot {
        reason: RedReason,
    },
}

/// The red-code side of an identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RedStatus {
    pub reasons: BTreeMap<RedReason, ActiveReason>,
    pub appeals: BTreeMap<AppealId, AppealStage>,
    /// What each notice released, as it was active, so a withdrawal brings it back.
    pub notice_releases: BTreeMap<Uuid, BTreeMap<RedReason, ActiveReason>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum IdentityState {
    /// Nothing recorded.
    Absent,
    /// Feed records exist; nobody has registered with the document yet.
    Unregistered {
        red: RedStatus,
    },
    Registered {
        person_id: PersonId,
        red: RedStatus,
    },
}

impl IdentityState {
    pub fn person_id(&self) -> Option<PersonId> {
        match self {
            IdentityState::Registered { person_id, .. } => Some(*person_id),
            IdentityState::Absent | IdentityState::Unregistered { .. } => None,
        }
    }

    /// The active red reasons (none while nothing is recorded).
    pub fn active_reasons(&self) -> Vec<RedReason> {
        self.red()
            .map(|red| red.reasons.keys().copied().collect())
            .unwrap_or_default()
    }

    pub fn red(&self) -> Option<&RedStatus> {
        match self {
            IdentityState::Absent => None,
            IdentityState::Unregistered { red } | IdentityState::Registered { red, .. } => {
                Some(red)
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("a person is already registered with this document")]
    AlreadyRegistered(PersonId),
    #[error("there is no active {} reason to release", .0.as_str())]
    ReasonNotActive(RedReason),
    #[error("only the registered person may appeal")]
    NotRegistered,
    #[error("an appeal against the {} reason is already open", .0.as_str())]
    AppealAlreadyOpen(RedReason),
    #[error("no such appeal")]
    UnknownAppeal,
    #[error("the appeal has already been decided")]
    AppealAlreadyDecided,
    #[error("the appealed reason was released before a decision; nothing is left to decide")]
    AppealMoot,
    #[error("the release takes effect before the active {} reason began ({since}); it belongs to an earlier episode", .reason.as_str())]
    ReleasePrecedesHit {
        reason: RedReason,
        since: OffsetDateTime,
    },
    #[error("a decision needs a detail of 1 to 500 characters")]
    DecisionDetail,
    #[error("a release notice cannot release the {} reason: only close contact, high-risk arrival, centralised and home quarantine", .0.as_str())]
    NoticeReasonNotReleasable(RedReason),
    #[error("the {} reason is not active on this code; nothing to release", .0.as_str())]
    NoticeReasonNotActive(RedReason),
}

impl Refusal for IdentityError {
    fn code(&self) -> &'static str {
        match self {
            IdentityError::AlreadyRegistered(_) => "person.already_registered",
            IdentityError::ReasonNotActive(_) => "appeal.reason_not_active",
            IdentityError::NotRegistered => FORBIDDEN,
            IdentityError::AppealAlreadyOpen(_) => "appeal.already_open",
            IdentityError::UnknownAppeal => "appeal.unknown",
            IdentityError::AppealAlreadyDecided => "appeal.already_decided",
            IdentityError::AppealMoot => "appeal.moot",
            IdentityError::ReleasePrecedesHit { .. } => "feed.release_precedes_hit",
            IdentityError::DecisionDetail => "decision.detail",
            IdentityError::NoticeReasonNotReleasable(_) => "notice.reason_not_releasable",
            IdentityError::NoticeReasonNotActive(_) => "notice.reason_not_active",
        }
    }

    fn extensions(&self) -> Vec<(&'static str, String)> {
        match self {
            IdentityError::NoticeReasonNotReleasable(reason)
            | IdentityError::NoticeReasonNotActive(reason) => {
                vec![("reason", reason.as_str().to_owned())]
            }
            _ => Vec::new(),
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            IdentityError::AlreadyRegistered(_)
            | IdentityError::ReasonNotActive(_)
            | IdentityError::AppealAlreadyOpen(_)
            | IdentityError::AppealAlreadyDecided
            | IdentityError::AppealMoot
            | IdentityError::ReleasePrecedesHit { .. }
            | IdentityError::NoticeReasonNotReleasable(_)
            | IdentityError::NoticeReasonNotActive(_) => RefusalKind::Conflict,
            IdentityError::NotRegistered => RefusalKind::Forbidden,
            IdentityError::UnknownAppeal => RefusalKind::NotFound,
            IdentityError::DecisionDetail => RefusalKind::Invalid { field: "detail" },
        }
    }
}

/// The identity aggregate.
#[derive(Debug)]
pub struct Identity;

fn red_of(state: &IdentityState) -> RedStatus {
    state.red().cloned().unwrap_or_default()
}

impl Decider for Identity {
    type Command = IdentityCommand;
    type Event = IdentityEvent;
    type State = IdentityState;
    type Error = IdentityError;

    fn initial() -> IdentityState {
        IdentityState::Absent
    }

    fn decide(
        command: &IdentityCommand,
        state: &IdentityState,
    ) -> Result<Vec<IdentityEvent>, IdentityError> {
        match command {
            IdentityCommand::Register { registration, at } => match state {
                IdentityState::Registered { person_id, .. } => {
                    Err(IdentityError::AlreadyRegistered(*person_id))
                }
                IdentityState::Absent | IdentityState::Unregistered { .. } => {
                    Ok(vec![IdentityEvent::PersonRegistered {
                        person_id: registration.person_id,
                        document_kind: registration.document_kind.clone(),
                        profile: registration.profile.clone(),
                        sex: registration.sex,
                        birth_date: registration.birth_date,
                        at: *at,
                    }])
                }
            },
            IdentityCommand::RecordHit {
                record_id,
                reason,
                effective_at,
                region,
                name,
                at,
            } => Ok(vec![IdentityEvent::RedReasonHit {
                record_id: record_id.clone(),
                reason: *reason,
                effective_at: *effective_at,
                region: region.clone(),
                name: name.clone(),
                at: *at,
            }]),
            IdentityCommand::RecordRelease {
                record_id,
                reason,
                effective_at,
                at,
            } => {
                let red = red_of(state);
                let Some(active) = red.reasons.get(reason) else {
                    // Released by a notice meanwhile: the feed's release is recorded all the
                    // same, so withdrawing that notice does not bring the reason back.
                    if red
                        .notice_releases
                        .values()
                        .any(|released| released.contains_key(reason))
                    {
                        return Ok(vec![IdentityEvent::RedReasonReleased {
                            reason: *reason,
                            release: Release::Feed {
                                record_id: record_id.clone(),
                            },
                            effective_at: *effective_at,
                            at: *at,
                        }]);
                    }
                    return Err(IdentityError::ReasonNotActive(*reason));
                };
                if *effective_at < active.since {
                    return Err(IdentityError::ReleasePrecedesHit {
                        reason: *reason,
                        since: active.since,
                    });
                }
                Ok(vec![IdentityEvent::RedReasonReleased {
                    reason: *reason,
                    release: Release::Feed {
                        record_id: record_id.clone(),
                    },
                    effective_at: *effective_at,
                    at: *at,
                }])
            }
            IdentityCommand::FileAppeal {
                appeal_id,
                person_id,
                reason,
                at,
            } => {
                let (registered, red) = match state {
                    IdentityState::Registered { person_id, red } => (*person_id, red),
                    IdentityState::Absent | IdentityState::Unregistered { .. } => {
                        return Err(IdentityError::NotRegistered)
                    }
                };
                if registered != *person_id {
                    return Err(IdentityError::NotRegistered);
                }
                let Some(active) = red.reasons.get(reason) else {
                    return Err(IdentityError::ReasonNotActive(*reason));
                };
                let already_open = red.appeals.values().any(|stage| match stage {
                    AppealStage::Open { reason: r, .. } => r == reason,
                    AppealStage::Decided { .. } | AppealStage::Moot { .. } => false,
                });
                if already_open {
                    return Err(IdentityError::AppealAlreadyOpen(*reason));
                }
                Ok(vec![IdentityEvent::AppealFiled {
                    appeal_id: *appeal_id,
                    person_id: *person_id,
                    reason: *reason,
                    record_id: active.record_id.clone(),
                    at: *at,
                }])
            }
            IdentityCommand::DecideAppeal {
                appeal_id,
                granted,
                detail,
                at,
            } => {
                let detail = detail.trim();
                if detail.is_empty() || detail.chars().count() > 500 {
                    return Err(IdentityError::DecisionDetail);
                }
                let red = red_of(state);
                let reason = match red.appeals.get(appeal_id) {
                    None => return Err(IdentityError::UnknownAppeal),
                    Some(AppealStage::Decided { .. }) => {
                        return Err(IdentityError::AppealAlreadyDecided)
                    }
                    Some(AppealStage::Moot { .. }) => return Err(IdentityError::AppealMoot),
                    Some(AppealStage::Open { reason, record_id }) => (*reason, record_id.clone()),
                };
                let (reason, appealed_record) = reason;
                let Some(person_id) = state.person_id() else {
                    return Err(IdentityError::NotRegistered);
                };
                let mut events = vec![IdentityEvent::AppealDecided {
                    appeal_id: *appeal_id,
                    person_id,
                    reason,
                    granted: *granted,
                    detail: detail.to_owned(),
                    at: *at,
                }];
                // Only the appealed record's reason is released, never a later hit.
                let still_active = red
                    .reasons
                    .get(&reason)
                    .is_some_and(|active| active.record_id == appealed_record);
                if *granted && still_active {
                    events.push(IdentityEvent::RedReasonReleased {
                        reason,
                        release: Release::Appeal {
                            appeal_id: *appeal_id,
                        },
                        effective_at: *at,
                        at: *at,
                    });
                }
                Ok(events)
            }
            IdentityCommand::ReleaseByNotice {
                notice_id,
                reasons,
                at,
            } => {
                let red = red_of(state);
                if let Some(r) = reasons.iter().find(|r| !r.released_by_notice()) {
                    return Err(IdentityError::NoticeReasonNotReleasable(*r));
                }
                if let Some(r) = reasons.iter().find(|r| !red.reasons.contains_key(r)) {
                    return Err(IdentityError::NoticeReasonNotActive(*r));
                }
                Ok(reasons
                    .iter()
                    .map(|reason| IdentityEvent::RedReasonReleased {
                        reason: *reason,
                        release: Release::Notice {
                            notice_id: *notice_id,
                        },
                        effective_at: *at,
                        at: *at,
                    })
                    .collect())
            }
            IdentityCommand::RestoreByWithdrawal { notice_id, at } => {
                let red = red_of(state);
                Ok(red
                    .notice_releases
                    .get(notice_id)
                    .into_iter()
                    .flatten()
                    .filter(|(reason, _)| !red.reasons.contains_key(reason))
                    .map(|(reason, was)| IdentityEvent::RedReasonRestored {
                        reason: *reason,
                        notice_id: *notice_id,
                        record_id: was.record_id.clone(),
                        since: was.since,
                        region: was.region.clone(),
                        at: *at,
                    })
                    .collect())
            }
            IdentityCommand::Shred { at } => {
                Ok(vec![IdentityEvent::PersonalDataShredded { at: *at }])
            }
        }
    }

    fn evolve(state: IdentityState, event: &IdentityEvent) -> IdentityState {
        let (person, mut red) = match state {
            IdentityState::Absent => (None, RedStatus::default()),
            IdentityState::Unregistered { red } => (None, red),
            IdentityState::Registered { person_id, red } => (Some(person_id), red),
        };
        let mut person = person;
        match event {
            IdentityEvent::PersonRegistered { person_id, .. } => person = Some(*person_id),
            IdentityEvent::RedReasonHit {
                record_id,
                reason,
                effective_at,
                region,
                ..
            } => {
                red.reasons.entry(*reason).or_insert(ActiveReason {
                    record_id: record_id.clone(),
                    since: *effective_at,
                    region: region.clone(),
                });
            }
            IdentityEvent::RedReasonRestored {
                reason,
                notice_id,
                record_id,
                since,
                region,
                ..
            } => {
                red.reasons.entry(*reason).or_insert(ActiveReason {
                    record_id: record_id.clone(),
                    since: *since,
                    region: region.clone(),
                });
                if let Some(released) = red.notice_releases.get_mut(notice_id) {
                    released.remove(reason);
                    if released.is_empty() {
                        red.notice_releases.remove(notice_id);
                    }
                }
            }
            IdentityEvent::RedReasonReleased {
                reason, release, ..
            } => {
                match (release, red.reasons.get(reason)) {
                    (Release::Notice { notice_id }, Some(was)) => {
                        red.notice_releases
                            .entry(*notice_id)
                            .or_default()
                            .insert(*reason, was.clone());
                    }
                    // The feed released it too: no withdrawal brings it back.
                    (Release::Feed { .. }, _) => {
                        for released in red.notice_releases.values_mut() {
                            released.remove(reason);
                        }
                        red.notice_releases
                            .retain(|_, released| !released.is_empty());
                    }
                    (Release::Notice { .. } | Release::Appeal { .. }, _) => {}
                }
                red.reasons.remove(reason);
                for stage in red.appeals.values_mut() {
                    if let AppealStage::Open { reason: r, .. } = stage {
                        if r == reason {
                            *stage = AppealStage::Moot { reason: *reason };
                        }
                    }
                }
            }
            IdentityEvent::AppealFiled {
                appeal_id,
                reason,
                record_id,
                ..
            } => {
                red.appeals.insert(
                    *appeal_id,
                    AppealStage::Open {
                        reason: *reason,
                        record_id: record_id.clone(),
                    },
                );
            }
            IdentityEvent::AppealDecided {
                appeal_id,
                reason,
                granted,
                ..
            } => {
                red.appeals.insert(
                    *appeal_id,
                    AppealStage::Decided {
                        reason: *reason,
                        granted: *granted,
                    },
                );
            }
            IdentityEvent::PersonalDataShredded { .. } => {}
        }
        match person {
            Some(person_id) => IdentityState::Registered { person_id, red },
            None => IdentityState::Unregistered { red },
        }
    }
}

/// A release-from-observation notice for a person with several documents (`documents`, the
/// state of each identity, the registration's first): every document releases those of
/// `reasons` it has active, and every named reason must be active on at least one of them
/// (else the refusal a single document would give). Answers the events per document, in
/// order (empty where the document holds none of the reasons).
pub fn release_by_notice_across(
    documents: &[IdentityState],
    notice_id: Uuid,
    reasons: &[RedReason],
    at: OffsetDateTime,
) -> Result<Vec<Vec<IdentityEvent>>, IdentityError> {
    if let Some(r) = reasons.iter().find(|r| !r.released_by_notice()) {
        return Err(IdentityError::NoticeReasonNotReleasable(*r));
    }
    let active: Vec<Vec<RedReason>> = documents
        .iter()
        .map(IdentityState::active_reasons)
        .collect();
    if let Some(r) = reasons
        .iter()
        .find(|r| !active.iter().any(|on| on.contains(r)))
    {
        return Err(IdentityError::NoticeReasonNotActive(*r));
    }
    documents
        .iter()
        .zip(&active)
        .map(|(state, on)| {
            let here: Vec<RedReason> = reasons.iter().copied().filter(|r| on.contains(r)).collect();
            if here.is_empty() {
                return Ok(Vec::new());
            }
            Identity::decide(
                &IdentityCommand::ReleaseByNotice {
                    notice_id,
                    reasons: here,
                    at,
                },
                state,
            )
        })
        .collect()
}

/// A feed release record for one of a person's documents (`own`), which releases the reason
/// on the person's other documents too (`others`), where it is active and was hit no later
/// than the release takes effect. Refused as the record's own document refuses it when no
/// document releases anything. Answers the events for `own`, then for each of `others`.
pub fn release_record_across(
    own: &IdentityState,
    others: &[IdentityState],
    release: &IdentityCommand,
) -> Result<(Vec<IdentityEvent>, Vec<Vec<IdentityEvent>>), IdentityError> {
    let elsewhere: Vec<Vec<IdentityEvent>> = others
        .iter()
        .map(|state| {
            let IdentityCommand::RecordRelease { reason, .. } = release else {
                return Vec::new();
            };
            if !state.active_reasons().contains(reason) {
                return Vec::new();
            }
            Identity::decide(release, state).unwrap_or_default()
        })
        .collect();
    match Identity::decide(release, own) {
        Ok(events) => Ok((events, elsewhere)),
        Err(_) if elsewhere.iter().any(|e| !e.is_empty()) => Ok((Vec::new(), elsewhere)),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Given;
    use time::macros::{date, datetime};

    const AT: OffsetDateTime = datetime!(2026-03-02 09:00 +08:00);

    fn person() -> PersonId {
        PersonId::new(Uuid::from_u128(7))
    }

    fn record(id: &str) -> FeedRecordId {
        FeedRecordId::parse(id).expect("record id")
    }

    fn sealed() -> Sealed {
        Sealed::new("v1.x.y")
    }

    fn registration() -> Registration {
        Registration {
            person_id: person(),
            document_kind: "resident_id".into(),
            profile: sealed(),
            sex: Some(Sex::Male),
            birth_date: Some(date!(1990 - 03 - 07)),
        }
    }

    fn registered() -> IdentityEvent {
        IdentityEvent::PersonRegistered {
            person_id: person(),
            document_kind: "resident_id".into(),
            profile: sealed(),
            sex: Some(Sex::Male),
            birth_date: Some(date!(1990 - 03 - 07)),
            at: AT,
        }
    }

    fn hit(id: &str, reason: RedReason) -> IdentityEvent {
        IdentityEvent::RedReasonHit {
            record_id: record(id),
            reason,
            effective_at: AT,
            region: Some("440106".into()),
            name: sealed(),
            at: AT,
        }
    }

    fn appeal(n: u128) -> AppealId {
        AppealId::new(Uuid::from_u128(n))
    }

    #[test]
    fn first_registration_registers() {
        Given::<Identity>::nothing()
            .when(&IdentityCommand::Register {
                registration: registration(),
                at: AT,
            })
            .then(vec![registered()]);
    }

    #[test]
    fn one_document_registers_one_person() {
        Given::<Identity>::events(vec![registered()])
            .when(&IdentityCommand::Register {
                registration: Registration {
                    person_id: PersonId::new(Uuid::from_u128(8)),
                    ..registration()
                },
                at: AT,
            })
            .then_error(IdentityError::AlreadyRegistered(person()));
    }

    #[test]
    fn a_hit_before_registration_is_active_after_it() {
        let state = Identity::fold(&[hit("r1", RedReason::CloseContact), registered()]);
        let IdentityState::Registered { person_id, red } = state else {
            panic!("registered expected")
        };
        assert_eq!(person_id, person());
        assert_eq!(
            red.reasons.get(&RedReason::CloseContact),
            Some(&ActiveReason {
                record_id: record("r1"),
                since: AT,
                region: Some("440106".into()),
            })
        );
    }

    #[test]
    fn release_of_an_active_reason_releases_it() {
        Given::<Identity>::events(vec![hit("r1", RedReason::HomeQuarantine)])
            .when(&IdentityCommand::RecordRelease {
                record_id: record("r2"),
                reason: RedReason::HomeQuarantine,
                effective_at: AT,
                at: AT,
            })
            .then(vec![IdentityEvent::RedReasonReleased {
                reason: RedReason::HomeQuarantine,
                release: Release::Feed {
                    record_id: record("r2"),
                },
                effective_at: AT,
                at: AT,
            }]);
        let released = Identity::fold(&[
            hit("r1", RedReason::HomeQuarantine),
            IdentityEvent::RedReasonReleased {
                reason: RedReason::HomeQuarantine,
                release: Release::Feed {
                    record_id: record("r2"),
                },
                effective_at: AT,
                at: AT,
            },
        ]);
        assert!(released.red().expect("red").reasons.is_empty());
    }

    #[test]
    fn release_of_an_inactive_reason_is_refused() {
        Given::<Identity>::events(vec![hit("r1", RedReason::HomeQuarantine)])
            .when(&IdentityCommand::RecordRelease {
                record_id: record("r2"),
                reason: RedReason::Confirmed,
                effective_at: AT,
                at: AT,
            })
            .then_error(IdentityError::ReasonNotActive(RedReason::Confirmed));
    }

    #[test]
    fn a_second_hit_keeps_the_first_source_and_since() {
        let state = Identity::fold(&[
            hit("r1", RedReason::Suspected),
            IdentityEvent::RedReasonHit {
                record_id: record("r9"),
                reason: RedReason::Suspected,
                effective_at: datetime!(2026-03-03 09:00 +08:00),
                region: None,
                name: sealed(),
                at: AT,
            },
        ]);
        let active = &state.red().expect("red").reasons[&RedReason::Suspected];
        assert_eq!(active.record_id, record("r1"));
        assert_eq!(active.since, AT);
    }

    #[test]
    fn appeals_need_an_active_reason_and_the_registered_person() {
        let given = || vec![registered(), hit("r1", RedReason::CloseContact)];
        Given::<Identity>::events(given())
            .when(&IdentityCommand::FileAppeal {
                appeal_id: appeal(1),
                person_id: person(),
                reason: RedReason::CloseContact,
                at: AT,
            })
            .then(vec![IdentityEvent::AppealFiled {
                appeal_id: appeal(1),
                person_id: person(),
                reason: RedReason::CloseContact,
                record_id: record("r1"),
                at: AT,
            }]);
        Given::<Identity>::events(given())
            .when(&IdentityCommand::FileAppeal {
                appeal_id: appeal(1),
                person_id: person(),
                reason: RedReason::Confirmed,
                at: AT,
            })
            .then_error(IdentityError::ReasonNotActive(RedReason::Confirmed));
        Given::<Identity>::events(given())
            .when(&IdentityCommand::FileAppeal {
                appeal_id: appeal(1),
                person_id: PersonId::new(Uuid::from_u128(99)),
                reason: RedReason::CloseContact,
                at: AT,
            })
            .then_error(IdentityError::NotRegistered);
    }

    fn filed(n: u128) -> IdentityEvent {
        IdentityEvent::AppealFiled {
            appeal_id: appeal(n),
            person_id: person(),
            reason: RedReason::CloseContact,
            record_id: record("r1"),
            at: AT,
        }
    }

    #[test]
    fn one_open_appeal_per_reason() {
        Given::<Identity>::events(vec![
            registered(),
            hit("r1", RedReason::CloseContact),
            filed(1),
        ])
        .when(&IdentityCommand::FileAppeal {
            appeal_id: appeal(2),
            person_id: person(),
            reason: RedReason::CloseContact,
            at: AT,
        })
        .then_error(IdentityError::AppealAlreadyOpen(RedReason::CloseContact));
    }

    #[test]
    fn a_granted_appeal_releases_the_reason() {
        Given::<Identity>::events(vec![
            registered(),
            hit("r1", RedReason::CloseContact),
            filed(1),
        ])
        .when(&IdentityCommand::DecideAppeal {
            appeal_id: appeal(1),
            granted: true,
            detail: "record was about another person".into(),
            at: AT,
        })
        .then(vec![
            IdentityEvent::AppealDecided {
                appeal_id: appeal(1),
                person_id: person(),
                reason: RedReason::CloseContact,
                granted: true,
                detail: "record was about another person".into(),
                at: AT,
            },
            IdentityEvent::RedReasonReleased {
                reason: RedReason::CloseContact,
                release: Release::Appeal {
                    appeal_id: appeal(1),
                },
                effective_at: AT,
                at: AT,
            },
        ]);
    }

    #[test]
    fn a_refused_appeal_leaves_the_reason() {
        Given::<Identity>::events(vec![
            registered(),
            hit("r1", RedReason::CloseContact),
            filed(1),
        ])
        .when(&IdentityCommand::DecideAppeal {
            appeal_id: appeal(1),
            granted: false,
            detail: "the contact is confirmed".into(),
            at: AT,
        })
        .then(vec![IdentityEvent::AppealDecided {
            appeal_id: appeal(1),
            person_id: person(),
            reason: RedReason::CloseContact,
            granted: false,
            detail: "the contact is confirmed".into(),
            at: AT,
        }]);
    }

    #[test]
    fn an_appeal_is_decided_once_and_needs_a_detail() {
        let decided = IdentityEvent::AppealDecided {
            appeal_id: appeal(1),
            person_id: person(),
            reason: RedReason::CloseContact,
            granted: false,
            detail: "no".into(),
            at: AT,
        };
        Given::<Identity>::events(vec![
            registered(),
            hit("r1", RedReason::CloseContact),
            filed(1),
            decided,
        ])
        .when(&IdentityCommand::DecideAppeal {
            appeal_id: appeal(1),
            granted: true,
            detail: "changed my mind".into(),
            at: AT,
        })
        .then_error(IdentityError::AppealAlreadyDecided);
        Given::<Identity>::events(vec![registered()])
            .when(&IdentityCommand::DecideAppeal {
                appeal_id: appeal(5),
                granted: true,
                detail: "x".into(),
                at: AT,
            })
            .then_error(IdentityError::UnknownAppeal);
        Given::<Identity>::events(vec![
            registered(),
            hit("r1", RedReason::CloseContact),
            filed(1),
        ])
        .when(&IdentityCommand::DecideAppeal {
            appeal_id: appeal(1),
            granted: true,
            detail: "  ".into(),
            at: AT,
        })
        .then_error(IdentityError::DecisionDetail);
    }

    #[test]
    fn a_release_closes_open_appeals_and_a_stale_grant_does_not_release_a_new_hit() {
        let release = |record: &str| IdentityEvent::RedReasonReleased {
            reason: RedReason::CloseContact,
            release: Release::Feed {
                record_id: FeedRecordId::parse(record).expect("record id"),
            },
            effective_at: AT,
            at: AT,
        };
        // Appeal against r1, released (r2): the appeal is moot.
        Given::<Identity>::events(vec![
            registered(),
            hit("r1", RedReason::CloseContact),
            filed(1),
            release("r2"),
            hit("r3", RedReason::CloseContact),
        ])
        .when(&IdentityCommand::DecideAppeal {
            appeal_id: appeal(1),
            granted: true,
            detail: "granted".into(),
            at: AT,
        })
        .then_error(IdentityError::AppealMoot);
        // The new hit can be appealed on its own.
        Given::<Identity>::events(vec![
            registered(),
            hit("r1", RedReason::CloseContact),
            filed(1),
            release("r2"),
            hit("r3", RedReason::CloseContact),
        ])
        .when(&IdentityCommand::FileAppeal {
            appeal_id: appeal(2),
            person_id: person(),
            reason: RedReason::CloseContact,
            at: AT,
        })
        .then(vec![IdentityEvent::AppealFiled {
            appeal_id: appeal(2),
            person_id: person(),
            reason: RedReason::CloseContact,
            record_id: record("r3"),
            at: AT,
        }]);
    }

    #[test]
    fn a_release_effective_before_the_active_hit_is_refused() {
        Given::<Identity>::events(vec![hit("r1", RedReason::CloseContact)])
            .when(&IdentityCommand::RecordRelease {
                record_id: record("r0"),
                reason: RedReason::CloseContact,
                effective_at: AT - time::Duration::hours(1),
                at: AT,
            })
            .then_error(IdentityError::ReleasePrecedesHit {
                reason: RedReason::CloseContact,
                since: AT,
            });
    }

    fn by_notice(reasons: Vec<RedReason>) -> IdentityCommand {
        IdentityCommand::ReleaseByNotice {
            notice_id: Uuid::from_u128(3),
            reasons,
            at: AT,
        }
    }

    fn released_by_notice(reason: RedReason) -> IdentityEvent {
        IdentityEvent::RedReasonReleased {
            reason,
            release: Release::Notice {
                notice_id: Uuid::from_u128(3),
            },
            effective_at: AT,
            at: AT,
        }
    }

    #[test]
    fn a_notice_releases_the_active_reasons_it_names() {
        Given::<Identity>::events(vec![
            registered(),
            hit("r1", RedReason::CloseContact),
            hit("r2", RedReason::HomeQuarantine),
        ])
        .when(&by_notice(vec![
            RedReason::HomeQuarantine,
            RedReason::CloseContact,
        ]))
        .then(vec![
            released_by_notice(RedReason::HomeQuarantine),
            released_by_notice(RedReason::CloseContact),
        ]);
    }

    #[test]
    fn a_notice_naming_a_confirmed_suspected_or_inactive_reason_releases_nothing() {
        let given = || {
            Given::<Identity>::events(vec![
                registered(),
                hit("r1", RedReason::Confirmed),
                hit("r2", RedReason::HomeQuarantine),
            ])
        };
        given()
            .when(&by_notice(vec![
                RedReason::HomeQuarantine,
                RedReason::Confirmed,
            ]))
            .then_error(IdentityError::NoticeReasonNotReleasable(
                RedReason::Confirmed,
            ));
        given()
            .when(&by_notice(vec![RedReason::Suspected]))
            .then_error(IdentityError::NoticeReasonNotReleasable(
                RedReason::Suspected,
            ));
        given()
            .when(&by_notice(vec![
                RedReason::HomeQuarantine,
                RedReason::CloseContact,
            ]))
            .then_error(IdentityError::NoticeReasonNotActive(
                RedReason::CloseContact,
            ));
        let error = IdentityError::NoticeReasonNotActive(RedReason::CloseContact);
        assert_eq!(error.code(), "notice.reason_not_active");
        assert_eq!(
            error.extensions(),
            vec![("reason", "close_contact".to_owned())]
        );
        assert_eq!(
            IdentityError::NoticeReasonNotReleasable(RedReason::Confirmed).code(),
            "notice.reason_not_releasable"
        );
    }

    #[test]
    fn a_withdrawal_brings_back_what_its_notice_released_as_it_was() {
        let released = vec![
            registered(),
            hit("r1", RedReason::CloseContact),
            hit("r2", RedReason::HomeQuarantine),
            released_by_notice(RedReason::CloseContact),
            released_by_notice(RedReason::HomeQuarantine),
        ];
        let restored = |reason, id: &str| IdentityEvent::RedReasonRestored {
            reason,
            notice_id: Uuid::from_u128(3),
            record_id: record(id),
            since: AT,
            region: Some("440106".into()),
            at: AT + time::Duration::hours(1),
        };
        let withdraw = IdentityCommand::RestoreByWithdrawal {
            notice_id: Uuid::from_u128(3),
            at: AT + time::Duration::hours(1),
        };
        Given::<Identity>::events(released.clone())
            .when(&withdraw)
            .then(vec![
                restored(RedReason::CloseContact, "r1"),
                restored(RedReason::HomeQuarantine, "r2"),
            ]);
        let state = Identity::fold(
            &[
                released.clone(),
                vec![restored(RedReason::CloseContact, "r1")],
            ]
            .concat(),
        );
        assert_eq!(
            state.active_reasons(),
            vec![RedReason::CloseContact],
            "the reason is active again, from its record"
        );
        // The feed set the reason again meanwhile: it stays as the feed set it.
        let mut again = released.clone();
        again.push(hit("r3", RedReason::CloseContact));
        Given::<Identity>::events(again)
            .when(&withdraw)
            .then(vec![restored(RedReason::HomeQuarantine, "r2")]);
        // The feed released it after the notice: the withdrawal leaves it released.
        let feed_release = IdentityCommand::RecordRelease {
            record_id: record("r9"),
            reason: RedReason::CloseContact,
            effective_at: AT,
            at: AT,
        };
        let fed = IdentityEvent::RedReasonReleased {
            reason: RedReason::CloseContact,
            release: Release::Feed {
                record_id: record("r9"),
            },
            effective_at: AT,
            at: AT,
        };
        Given::<Identity>::events(released.clone())
            .when(&feed_release)
            .then(vec![fed.clone()]);
        let mut then_fed = released.clone();
        then_fed.push(fed);
        Given::<Identity>::events(then_fed)
            .when(&withdraw)
            .then(vec![restored(RedReason::HomeQuarantine, "r2")]);
        // Another notice's withdrawal brings nothing back.
        Given::<Identity>::events(released)
            .when(&IdentityCommand::RestoreByWithdrawal {
                notice_id: Uuid::from_u128(4),
                at: AT,
            })
            .then(vec![]);
    }

    #[test]
    fn every_refusal_says_its_code_and_kind() {
        let conflict = RefusalKind::Conflict;
        let table = [
            (
                IdentityError::AlreadyRegistered(person()),
                "person.already_registered",
                conflict,
            ),
            (
                IdentityError::ReasonNotActive(RedReason::Confirmed),
                "appeal.reason_not_active",
                conflict,
            ),
            (
                IdentityError::NotRegistered,
                "auth.forbidden",
                RefusalKind::Forbidden,
            ),
            (
                IdentityError::AppealAlreadyOpen(RedReason::Confirmed),
                "appeal.already_open",
                conflict,
            ),
            (
                IdentityError::UnknownAppeal,
                "appeal.unknown",
                RefusalKind::NotFound,
            ),
            (
                IdentityError::AppealAlreadyDecided,
                "appeal.already_decided",
                conflict,
            ),
            (IdentityError::AppealMoot, "appeal.moot", conflict),
            (
                IdentityError::ReleasePrecedesHit {
                    reason: RedReason::Confirmed,
                    since: AT,
                },
                "feed.release_precedes_hit",
                conflict,
            ),
            (
                IdentityError::DecisionDetail,
                "decision.detail",
                RefusalKind::Invalid { field: "detail" },
            ),
        ];
        for (error, code, kind) in table {
            assert_eq!((error.code(), error.kind()), (code, kind), "{error:?}");
            assert!(error.extensions().is_empty());
        }
    }

    #[test]
    fn reasons_round_trip_their_wire_names() {
        for reason in RedReason::ALL {
            assert_eq!(RedReason::parse(reason.as_str()), Some(reason));
            assert!(!reason.guidance().is_empty());
        }
        assert_eq!(RedReason::parse("flu"), None);
    }

    #[test]
    fn a_notice_releases_each_reason_on_every_document_that_holds_it() {
        let resident_id = Identity::fold(&[
            registered(),
            hit("r1", RedReason::CloseContact),
            hit("r2", RedReason::HomeQuarantine),
        ]);
        let passport = Identity::fold(&[registered(), hit("r3", RedReason::HomeQuarantine)]);
        let clear = Identity::fold(&[registered()]);
        let notice_id = Uuid::from_u128(9);
        let released = |reason| IdentityEvent::RedReasonReleased {
            reason,
            release: Release::Notice { notice_id },
            effective_at: AT,
            at: AT,
        };
        assert_eq!(
            release_by_notice_across(
                &[resident_id.clone(), passport.clone(), clear.clone()],
                notice_id,
                &[RedReason::CloseContact, RedReason::HomeQuarantine],
                AT,
            ),
            Ok(vec![
                vec![
                    released(RedReason::CloseContact),
                    released(RedReason::HomeQuarantine)
                ],
                vec![released(RedReason::HomeQuarantine)],
                vec![],
            ])
        );
        // A reason active on the second document only is released there.
        assert_eq!(
            release_by_notice_across(
                &[clear.clone(), passport.clone()],
                notice_id,
                &[RedReason::HomeQuarantine],
                AT,
            ),
            Ok(vec![vec![], vec![released(RedReason::HomeQuarantine)]])
        );
        assert_eq!(
            release_by_notice_across(
                &[clear.clone(), passport.clone()],
                notice_id,
                &[RedReason::CloseContact],
                AT,
            ),
            Err(IdentityError::NoticeReasonNotActive(
                RedReason::CloseContact
            ))
        );
        assert_eq!(
            release_by_notice_across(&[resident_id], notice_id, &[RedReason::Confirmed], AT),
            Err(IdentityError::NoticeReasonNotReleasable(
                RedReason::Confirmed
            ))
        );
    }

    #[test]
    fn a_feed_release_on_one_document_releases_the_reason_on_the_others() {
        let own = Identity::fold(&[registered()]);
        let other = Identity::fold(&[registered(), hit("r1", RedReason::CloseContact)]);
        let release = IdentityCommand::RecordRelease {
            record_id: record("r9"),
            reason: RedReason::CloseContact,
            effective_at: AT,
            at: AT,
        };
        let released = IdentityEvent::RedReasonReleased {
            reason: RedReason::CloseContact,
            release: Release::Feed {
                record_id: record("r9"),
            },
            effective_at: AT,
            at: AT,
        };
        assert_eq!(
            release_record_across(&own, &[other.clone(), own.clone()], &release),
            Ok((vec![], vec![vec![released.clone()], vec![]]))
        );
        // Active on both: released on both.
        assert_eq!(
            release_record_across(&other, std::slice::from_ref(&other), &release),
            Ok((vec![released.clone()], vec![vec![released]]))
        );
        // Active nowhere: the record's own refusal.
        assert_eq!(
            release_record_across(&own, std::slice::from_ref(&own), &release),
            Err(IdentityError::ReasonNotActive(RedReason::CloseContact))
        );
        // A release that takes effect before the other document's hit leaves it alone.
        let early = IdentityCommand::RecordRelease {
            record_id: record("r9"),
            reason: RedReason::CloseContact,
            effective_at: AT - time::Duration::days(1),
            at: AT,
        };
        assert!(matches!(
            release_record_across(&own, &[other], &early),
            Err(IdentityError::ReasonNotActive(RedReason::CloseContact))
        ));
    }
}
