//! The citizen-side use cases, shared by the HTTP routes and the command line: logging in with
//! an identity assertion (first login registers), family members, declarations, entries,
//! appeals, the red-code feed, the province admin bootstrap, and access records.
//!
//! Personal data (name, phone, document number) is sealed with the subject's key before it
//! reaches a command; the subject of a person is the keyed hash of their document.

use std::collections::BTreeMap;

use commands::{CommandBus, CommandContext, Decision, Loaded};
use domain::access::{AccessEvent, AccessedData, Accessor};
use domain::assertion::{Assertion, AssertionPurpose, UseAssertion};
use domain::document::{mask_name, Document, MobilePhone};
use domain::identity::{
    ClaimFeedRecord, DocumentDigest, FeedRecord, FeedRecordId, Identity, IdentityCommand,
    IdentityError, IdentityState, PersonId, RedReason, Registration,
};
use domain::person::{Person, PersonCommand, PersonError, Relation};
use domain::region::{Appointer, Region, RegionCode, RegionCommand, RegionError};
use domain::sealed::Sealed;
use domain::{Decider, DomainEvent, EncodedEvent};
use event_store::{EventReader, StreamId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};
use uuid::Uuid;

use crate::crypto::assertion::IdentityClaims;
use crate::crypto::keys::Keys;
use crate::crypto::vault::{self, Vault};
use crate::error::ApiError;

/// China Standard Time, in which days and weeks are counted.
pub const CST: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};

/// Today in China Standard Time.
pub fn today(now: OffsetDateTime) -> Date {
    now.to_offset(CST).date()
}

pub fn identity_stream(digest: &DocumentDigest) -> StreamId {
    StreamId::of("identity", digest)
}

pub fn person_stream(person: PersonId) -> StreamId {
    StreamId::of("person", person)
}

pub fn access_stream(person: PersonId) -> StreamId {
    StreamId::of("access", person)
}

fn region_stream(region: &RegionCode) -> StreamId {
    StreamId::of("region", region)
}

fn feed_record_stream(id: &FeedRecordId) -> StreamId {
    StreamId::of("feed-record", id)
}

/// One stream per assertion (issuer and id hashed, so any `jti` makes a valid stream id).
fn assertion_stream(claims: &IdentityClaims) -> StreamId {
    let mut h = Sha256::new();
    h.update(claims.iss.as_bytes());
    h.update([0]);
    h.update(claims.jti.as_bytes());
    StreamId::of("assertion", &hex::encode(h.finalize())[..40])
}

/// What is sealed in `PersonRegistered.profile`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub name: String,
    pub phone: Option<String>,
    pub document_type: String,
    pub document_number: String,
}

/// A person's name as asserted: 1 to 50 characters, no control characters.
fn parse_name(raw: &str, field: &'static str) -> Result<String, ApiError> {
    let name = raw.trim();
    let n = name.chars().count();
    if n == 0 || n > 50 || name.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            field,
            "name.format",
            "a name has 1 to 50 characters",
        ));
    }
    Ok(name.to_owned())
}

/// The document's keyed hash.
pub fn digest_of(keys: &Keys, document: &Document) -> Result<DocumentDigest, ApiError> {
    DocumentDigest::parse(keys.document_digest(document.kind(), document.number()))
        .map_err(|why| ApiError::internal(anyhow::anyhow!(why)))
}

fn sealed(v: vault::Sealed) -> Sealed {
    Sealed::new(v.0)
}

fn decode_failed(e: domain::EventDecodeError) -> ApiError {
    ApiError::internal(e)
}

fn encode_failed(e: serde_json::Error) -> ApiError {
    ApiError::internal(e)
}

/// Events to append, grouped by stream in first-seen order.
#[derive(Debug, Default)]
struct Appends(Vec<(StreamId, Vec<EncodedEvent>)>);

impl Appends {
    fn push<E: DomainEvent>(&mut self, stream: &StreamId, events: &[E]) -> Result<(), ApiError> {
        if events.is_empty() {
            return Ok(());
        }
        let encoded = events
            .iter()
            .map(E::encode)
            .collect::<Result<Vec<_>, _>>()
            .map_err(encode_failed)?;
        match self.0.iter_mut().find(|(s, _)| s == stream) {
            Some((_, existing)) => existing.extend(encoded),
            None => self.0.push((stream.clone(), encoded)),
        }
        Ok(())
    }

    fn into_decision<R>(self, response: R) -> Decision<R> {
        Decision {
            appends: self.0,
            checks: Vec::new(),
            response,
        }
    }
}

/// A verified identity: the parsed document, its digest and the sealed profile.
#[derive(Debug, Clone)]
pub struct VerifiedIdentity {
    pub claims: IdentityClaims,
    pub document: Document,
    pub digest: DocumentDigest,
    pub registration: Registration,
}

/// Parses what an assertion says and seals it for the log.
pub async fn verified_identity(
    keys: &Keys,
    vault: &Vault,
    claims: IdentityClaims,
    now: OffsetDateTime,
) -> Result<VerifiedIdentity, ApiError> {
    let document = Document::parse(&claims.doc_type, &claims.doc_number, today(now))?;
    let name = parse_name(&claims.name, "name")?;
    let phone = match claims
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        Some(p) => Some(MobilePhone::parse(p)?.as_str().to_owned()),
        None => None,
    };
    let digest = digest_of(keys, &document)?;
    let (sex, birth_date) = match &document {
        Document::ResidentId(id) => (Some(id.sex()), Some(id.birth_date())),
        Document::HkMacaoPermit(_) | Document::Passport(_) | Document::BirthCertificate(_) => {
            (None, None)
        }
    };
    let profile = Profile {
        name,
        phone,
        document_type: document.kind().to_owned(),
        document_number: document.number().to_owned(),
    };
    let sealed_profile = vault
        .seal_json(digest.as_str(), &profile)
        .await
        .map_err(ApiError::internal)?;
    Ok(VerifiedIdentity {
        registration: Registration {
            person_id: PersonId::new(Uuid::now_v7()),
            document_kind: document.kind().to_owned(),
            profile: sealed(sealed_profile),
            sex,
            birth_date,
        },
        claims,
        document,
        digest,
    })
}

/// Uses the assertion once and registers the identity when it is new; answers the person.
fn use_and_register(
    loaded: &Loaded,
    who: &VerifiedIdentity,
    purpose: AssertionPurpose,
    now: OffsetDateTime,
    appends: &mut Appends,
) -> Result<(PersonId, bool), ApiError> {
    let a_stream = assertion_stream(&who.claims);
    let used = loaded.fold::<Assertion>(&a_stream).map_err(decode_failed)?;
    let events = Assertion::decide(
        &UseAssertion {
            issuer: who.claims.iss.clone(),
            purpose,
            at: now,
        },
        &used,
    )
    .map_err(|e| ApiError::Unauthorized {
        code: "assertion.replayed",
        detail: e.to_string(),
    })?;
    appends.push(&a_stream, &events)?;
    let i_stream = identity_stream(&who.digest);
    let identity = loaded.fold::<Identity>(&i_stream).map_err(decode_failed)?;
    if let Some(existing) = identity.person_id() {
        return Ok((existing, false));
    }
    let registered = Identity::decide(
        &IdentityCommand::Register {
            registration: who.registration.clone(),
            at: now,
        },
        &identity,
    )
    .map_err(|e| ApiError::conflict("person.already_registered", e.to_string()))?;
    appends.push(&i_stream, &registered)?;
    let person_id = who.registration.person_id;
    let created = Person::decide(
        &PersonCommand::Create {
            digest: who.digest.clone(),
            at: now,
        },
        &Person::initial(),
    )
    .map_err(|e| ApiError::conflict("person.already_registered", e.to_string()))?;
    appends.push(&person_stream(person_id), &created)?;
    Ok((person_id, true))
}

/// The answer to a login.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginAnswer {
    pub person_id: PersonId,
    pub registered: bool,
}

/// Logs in with a verified assertion: records its use and registers a first-time person.
pub async fn login(
    bus: &CommandBus,
    who: &VerifiedIdentity,
) -> Result<(LoginAnswer, u64), ApiError> {
    match who.document {
        Document::ResidentId(_) | Document::HkMacaoPermit(_) | Document::Passport(_) => {}
        Document::BirthCertificate(_) => {
            return Err(ApiError::invalid(
                "document.type",
                "document.not_for_login",
                "log in with a resident ID, HK/Macao travel permit or passport; a child with a birth certificate is added as a family member",
            ))
        }
    }
    match who.claims.aud.as_deref() {
        None | Some("login") => {}
        Some(_) => {
            return Err(ApiError::Unauthorized {
                code: "assertion.audience",
                detail: "this assertion was made for adding a family member, not for logging in"
                    .into(),
            })
        }
    }
    if !matches!(who.claims.method.as_str(), "face" | "payment_password") {
        return Err(ApiError::invalid(
            "assertion",
            "assertion.method_not_for_login",
            "logging in needs face or payment-password verification; household and birth-certificate matches only add minors as family members",
        ));
    }
    let now = bus.clock().now();
    let ctx = CommandContext::new(format!("identity-provider:{}", who.claims.iss));
    let streams = [assertion_stream(&who.claims), identity_stream(&who.digest)];
    let outcome = bus
        .execute(&ctx, &streams, |loaded| {
            let mut appends = Appends::default();
            let (person_id, registered) =
                use_and_register(loaded, who, AssertionPurpose::Login, now, &mut appends)?;
            Ok::<_, ApiError>(appends.into_decision(LoginAnswer {
                person_id,
                registered,
            }))
        })
        .await?;
    let position = outcome.position();
    Ok((outcome.into_response(), position))
}

fn is_minor(document: &Document, today: Date) -> bool {
    match document {
        Document::BirthCertificate(_) => true,
        Document::ResidentId(id) => {
            let born = id.birth_date();
            let mut age = today.year() - born.year();
            if (today.month() as u8, today.day()) < (born.month() as u8, born.day()) {
                age -= 1;
            }
            age < 18
        }
        Document::HkMacaoPermit(_) | Document::Passport(_) => false,
    }
}

/// The answer to adding a family member.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemberAdded {
    pub person_id: PersonId,
}

fn person_error(e: PersonError) -> ApiError {
    match e {
        PersonError::CannotAddSelf => ApiError::conflict("family.self", e.to_string()),
        PersonError::AlreadyFamilyMember => {
            ApiError::conflict("family.already_member", e.to_string())
        }
        PersonError::NotFamilyMember => ApiError::not_found("family.not_a_member", e.to_string()),
        PersonError::NotGuardian => ApiError::Forbidden(e.to_string()),
        PersonError::Unknown | PersonError::AlreadyCreated => {
            ApiError::not_found("person.unknown", e.to_string())
        }
    }
}

/// Adds the person the assertion verifies (registering them if new) to `guardian`'s family.
pub async fn add_family_member(
    bus: &CommandBus,
    ctx: &CommandContext,
    guardian: PersonId,
    member: &VerifiedIdentity,
    relation: Relation,
) -> Result<commands::Outcome<MemberAdded>, ApiError> {
    let now = bus.clock().now();
    if member.claims.aud.as_deref() != Some(format!("family:{guardian}").as_str()) {
        return Err(ApiError::Unauthorized {
            code: "assertion.audience",
            detail: format!(
                "an assertion adding a family member names the guardian: aud = family:{guardian}"
            ),
        });
    }
    if matches!(
        member.claims.method.as_str(),
        "household" | "birth_certificate"
    ) && !is_minor(&member.document, today(now))
    {
        return Err(ApiError::invalid(
            "assertion",
            "family.match_needs_minor",
            "a household or birth-certificate match verifies minors only; an adult member verifies with their face",
        ));
    }
    let g_stream = person_stream(guardian);
    // The member's own stream records the link too (so declarations for them are decided
    // on a stream the append version-checks); an existing member's stream is loaded.
    let known = crate::aggregates::fold::<Identity>(bus, &identity_stream(&member.digest))
        .await?
        .person_id();
    let mut streams = vec![
        assertion_stream(&member.claims),
        identity_stream(&member.digest),
        g_stream.clone(),
    ];
    if let Some(existing) = known {
        streams.push(person_stream(existing));
    }
    Ok(bus
        .execute(ctx, &streams, |loaded| {
            let mut appends = Appends::default();
            let (member_id, created) = use_and_register(
                loaded,
                member,
                AssertionPurpose::AddFamilyMember,
                now,
                &mut appends,
            )?;
            let m_stream = person_stream(member_id);
            let member_state = if created {
                Person::fold(&[domain::person::PersonEvent::PersonCreated {
                    digest: member.digest.clone(),
                    at: now,
                }])
            } else if streams.contains(&m_stream) {
                loaded.fold::<Person>(&m_stream).map_err(decode_failed)?
            } else {
                // Registered between our first read and the load: decide again.
                return Err(ApiError::conflict(
                    "concurrency.conflict",
                    "the member registered concurrently; retry",
                ));
            };
            let linked = Person::decide(
                &PersonCommand::LinkGuardian { guardian, at: now },
                &member_state,
            );
            let guardian_state = loaded.fold::<Person>(&g_stream).map_err(decode_failed)?;
            let added = Person::decide_for(
                guardian,
                &PersonCommand::AddFamilyMember {
                    member: member_id,
                    relation,
                    at: now,
                },
                &guardian_state,
            )
            .map_err(person_error)?;
            appends.push(&g_stream, &added)?;
            appends.push(&m_stream, &linked.map_err(person_error)?)?;
            Ok::<_, ApiError>(appends.into_decision(MemberAdded {
                person_id: member_id,
            }))
        })
        .await?)
}

pub use crate::aggregates::Done;

/// Removes a family member (and the member's link back to the guardian).
pub async fn remove_family_member(
    bus: &CommandBus,
    ctx: &CommandContext,
    guardian: PersonId,
    member: PersonId,
) -> Result<commands::Outcome<Done>, ApiError> {
    let now = bus.clock().now();
    let g_stream = person_stream(guardian);
    let m_stream = person_stream(member);
    let streams = [g_stream.clone(), m_stream.clone()];
    Ok(bus
        .execute(ctx, &streams, |loaded| {
            let guardian_state = loaded.fold::<Person>(&g_stream).map_err(decode_failed)?;
            let removed = Person::decide(
                &PersonCommand::RemoveFamilyMember { member, at: now },
                &guardian_state,
            )
            .map_err(person_error)?;
            let member_state = loaded.fold::<Person>(&m_stream).map_err(decode_failed)?;
            let unlinked = match Person::decide(
                &PersonCommand::UnlinkGuardian { guardian, at: now },
                &member_state,
            ) {
                Ok(events) => events,
                // Links made before the member's stream recorded them: nothing to undo.
                Err(PersonError::NotFamilyMember | PersonError::Unknown) => Vec::new(),
                Err(e) => return Err(person_error(e)),
            };
            let mut appends = Appends::default();
            appends.push(&g_stream, &removed)?;
            appends.push(&m_stream, &unlinked)?;
            Ok::<_, ApiError>(appends.into_decision(Done {}))
        })
        .await?)
}

/// The answer to a filed declaration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeclarationFiled {
    pub declaration_id: Uuid,
}

/// Files a declaration for `subject` (the actor, or a member of the actor's family: the
/// member's own stream records their guardians, and the append checks its version).
pub async fn file_declaration(
    bus: &CommandBus,
    ctx: &CommandContext,
    actor: PersonId,
    subject: PersonId,
    org_id: Option<Uuid>,
    declaration: domain::health::Declaration,
) -> Result<commands::Outcome<DeclarationFiled>, ApiError> {
    let now = bus.clock().now();
    let declaration_id = Uuid::now_v7();
    let s_stream = person_stream(subject);
    let mut streams = vec![s_stream.clone()];
    let binding =
        org_id.map(|org| crate::orgs::membership_stream(domain::org::OrgId::new(org), subject));
    if let Some(b) = &binding {
        streams.push(b.clone());
    }
    Ok(bus
        .execute(ctx, &streams, |loaded| {
            // Who may declare for the subject comes first: a stranger learns nothing of
            // the subject's bindings.
            let state = loaded.fold::<Person>(&s_stream).map_err(decode_failed)?;
            let events = Person::decide_for(
                subject,
                &PersonCommand::FileDeclaration {
                    declaration_id,
                    by: actor,
                    org_id,
                    declaration: declaration.clone(),
                    at: now,
                },
                &state,
            )
            .map_err(person_error)?;
            let mut decision = Decision::unchanged(DeclarationFiled { declaration_id })
                .append(s_stream.clone(), &events)
                .map_err(encode_failed)?;
            if let (Some(b), Some(org)) = (&binding, org_id) {
                let membership = loaded
                    .fold::<domain::org::Membership>(b)
                    .map_err(decode_failed)?;
                if membership == domain::org::MembershipState::Unbound {
                    return Err(ApiError::conflict(
                        "org.not_bound",
                        format!("the declarant is not bound to organisation {org}; bind with its declaration code first"),
                    ));
                }
                // An unbinding racing this declaration makes it decide again.
                decision = decision.check(b.clone());
            }
            Ok(decision)
        })
        .await?)
}

/// The answer to an entry registration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EntryRegistered {
    pub entry_id: Uuid,
}

/// Registers an entry into Guangdong for the actor.
pub async fn register_entry(
    bus: &CommandBus,
    ctx: &CommandContext,
    person: PersonId,
    entry: domain::health::Entry,
) -> Result<commands::Outcome<EntryRegistered>, ApiError> {
    let now = bus.clock().now();
    let entry_id = Uuid::now_v7();
    bus.decide::<Person, _>(
        ctx,
        person_stream(person),
        &PersonCommand::RegisterEntry {
            entry_id,
            entry,
            at: now,
        },
        |_| EntryRegistered { entry_id },
    )
    .await
    .map_err(|e| ApiError::from(e.map_rejected(person_error)))
}

fn identity_error(e: IdentityError) -> ApiError {
    match e {
        IdentityError::ReasonNotActive(_) => {
            ApiError::conflict("appeal.reason_not_active", e.to_string())
        }
        IdentityError::AppealAlreadyOpen(_) => {
            ApiError::conflict("appeal.already_open", e.to_string())
        }
        IdentityError::AppealMoot => ApiError::conflict("appeal.moot", e.to_string()),
        IdentityError::ReleasePrecedesHit { .. } => {
            ApiError::conflict("feed.release_precedes_hit", e.to_string())
        }
        IdentityError::AppealAlreadyDecided => {
            ApiError::conflict("appeal.already_decided", e.to_string())
        }
        IdentityError::UnknownAppeal => ApiError::not_found("appeal.unknown", e.to_string()),
        IdentityError::DecisionDetail => {
            ApiError::invalid("detail", "decision.detail", e.to_string())
        }
        IdentityError::NotRegistered | IdentityError::AlreadyRegistered(_) => {
            ApiError::Forbidden(e.to_string())
        }
    }
}

/// The answer to an appeal.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppealFiled {
    pub appeal_id: Uuid,
}

/// Files an appeal by `person` (whose document digest is `digest`) against `reason`.
pub async fn file_appeal(
    bus: &CommandBus,
    ctx: &CommandContext,
    person: PersonId,
    digest: &DocumentDigest,
    reason: RedReason,
) -> Result<commands::Outcome<AppealFiled>, ApiError> {
    let now = bus.clock().now();
    let appeal_id = domain::identity::AppealId::new(Uuid::now_v7());
    bus.decide::<Identity, _>(
        ctx,
        identity_stream(digest),
        &IdentityCommand::FileAppeal {
            appeal_id,
            person_id: person,
            reason,
            at: now,
        },
        |_| AppealFiled {
            appeal_id: appeal_id.as_uuid(),
        },
    )
    .await
    .map_err(|e| ApiError::from(e.map_rejected(identity_error)))
}

/// The feed's decision on an appeal.
pub async fn decide_appeal(
    bus: &CommandBus,
    ctx: &CommandContext,
    digest: &DocumentDigest,
    appeal_id: Uuid,
    granted: bool,
    detail: String,
) -> Result<commands::Outcome<Done>, ApiError> {
    let now = bus.clock().now();
    bus.decide::<Identity, _>(
        ctx,
        identity_stream(digest),
        &IdentityCommand::DecideAppeal {
            appeal_id: domain::identity::AppealId::new(appeal_id),
            granted,
            detail,
            at: now,
        },
        |_| Done {},
    )
    .await
    .map_err(|e| ApiError::from(e.map_rejected(identity_error)))
}

/// Appends an access record to `person`'s access log (no version check: records only add up).
pub async fn record_access(
    bus: &CommandBus,
    actor: &str,
    person: PersonId,
    accessor: Accessor,
    data: AccessedData,
) -> Result<u64, ApiError> {
    let now = bus.clock().now();
    let ctx = CommandContext::new(actor);
    let stream = access_stream(person);
    let event = AccessEvent::PersonalDataAccessed {
        accessor,
        data,
        at: now,
    };
    let outcome = bus
        .execute(&ctx, &[], |_| {
            Decision::unchanged(Done {})
                .append(stream.clone(), std::slice::from_ref(&event))
                .map_err(encode_failed)
        })
        .await?;
    Ok(outcome.position())
}

/// Opens a sealed profile; `None` when the subject's key was shredded.
pub async fn open_profile(
    vault: &Vault,
    digest: &str,
    profile: Option<&str>,
) -> Result<Option<Profile>, ApiError> {
    let Some(profile) = profile else {
        return Ok(None);
    };
    vault
        .open_json(digest, &vault::Sealed(profile.to_owned()))
        .await
        .map_err(ApiError::internal)
}

/// The masked name of a sealed profile (`张*强`), empty once shredded.
pub async fn masked_name(
    vault: &Vault,
    digest: &str,
    profile: Option<&str>,
) -> Result<String, ApiError> {
    Ok(open_profile(vault, digest, profile)
        .await?
        .map(|p| mask_name(&p.name))
        .unwrap_or_default())
}

/// Appoints the province admin (operator action).
pub async fn bootstrap_province_admin(
    bus: &CommandBus,
    keys: &Keys,
    vault: &Vault,
    doc_type: &str,
    doc_number: &str,
    name: &str,
) -> Result<u64, ApiError> {
    let now = bus.clock().now();
    let document = Document::parse(doc_type, doc_number, today(now))?;
    let name = parse_name(name, "name")?;
    let digest = digest_of(keys, &document)?;
    let sealed_name = vault
        .seal(digest.as_str(), name.as_bytes())
        .await
        .map_err(ApiError::internal)?;
    let region = RegionCode::parse(RegionCode::GUANGDONG, "region")?;
    let ctx = CommandContext::new("operator");
    let outcome = bus
        .decide::<Region, _>(
            &ctx,
            region_stream(&region),
            &RegionCommand::AppointAdmin {
                region: region.clone(),
                admin: digest,
                name: sealed(sealed_name),
                by: Appointer::Operator,
                at: now,
            },
            |_| Done {},
        )
        .await
        .map_err(|e| {
            ApiError::from(e.map_rejected(|rule| match rule {
                RegionError::AlreadyHeld(_) => {
                    ApiError::conflict("region.admin_already_appointed", rule.to_string())
                }
                RegionError::OperatorOnlyAppointsProvince => {
                    ApiError::conflict("region.appointment", rule.to_string())
                }
            }))
        })?;
    Ok(outcome.position())
}

// ---------------------------------------------------------------------------------------
// The red-code feed.

/// A feed record as sent.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct DocumentInput {
    /// `resident_id`, `hk_macao_permit`, `passport` or `birth_certificate`.
    #[serde(rename = "type")]
    pub kind: String,
    pub number: String,
}

/// A refused record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RefusedRecord {
    pub record_id: String,
    pub code: String,
    pub detail: String,
}

/// Each record's outcome.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
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
    keys: &Keys,
    vault: &Vault,
    input: &FeedRecordInput,
    now: OffsetDateTime,
) -> Result<Result<ParsedRecord, RefusedRecord>, ApiError> {
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
    let digest = digest_of(keys, &document)?;
    let action = match input.action.as_str() {
        "hit" => {
            let subject = Profile {
                name,
                phone: None,
                document_type: document.kind().to_owned(),
                document_number: document.number().to_owned(),
            };
            let name = vault
                .seal_json(digest.as_str(), &subject)
                .await
                .map_err(ApiError::internal)?;
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
pub async fn apply_feed_batch(
    bus: &CommandBus,
    keys: &Keys,
    vault: &Vault,
    ctx: &CommandContext,
    records: &[FeedRecordInput],
) -> Result<commands::Outcome<BatchOutcome>, ApiError> {
    if records.len() > MAX_BATCH {
        return Err(ApiError::invalid(
            "records",
            "feed.batch_too_large",
            format!("send at most {MAX_BATCH} records a batch"),
        ));
    }
    let now = bus.clock().now();
    // Parse (and seal) every record first; a refused one never touches the log.
    let mut parsed = Vec::with_capacity(records.len());
    for input in records {
        parsed.push(parse_record(keys, vault, input, now).await?);
    }
    let mut streams: Vec<StreamId> = Vec::new();
    for record in parsed.iter().flatten() {
        for s in [
            feed_record_stream(&record.record_id),
            identity_stream(&record.digest),
        ] {
            if !streams.contains(&s) {
                streams.push(s);
            }
        }
    }
    Ok(bus
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
                let r_stream = feed_record_stream(&record.record_id);
                let claim_state = if claimed.contains(&record.record_id) {
                    domain::identity::FeedRecordState::Accepted
                } else {
                    loaded
                        .fold::<FeedRecord>(&r_stream)
                        .map_err(decode_failed)?
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
                let i_stream = identity_stream(&record.digest);
                let state = match identities.remove(&record.digest) {
                    Some(s) => s,
                    None => loaded.fold::<Identity>(&i_stream).map_err(decode_failed)?,
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
                match Identity::decide(&command, &state) {
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
                            | IdentityError::DecisionDetail => "feed.reason_not_active",
                        };
                        outcome
                            .refused
                            .push(refuse(&input.record_id, code, e.to_string()));
                    }
                }
            }
            Ok::<_, ApiError>(appends.into_decision(outcome))
        })
        .await?)
}

/// Crypto-shreds a subject: records `PersonalDataShredded` (projections drop what they hold),
/// then destroys the data key, so every sealed value of the subject in the log becomes
/// unreadable while the events stay in place. Safe to repeat.
pub async fn shred(
    bus: &CommandBus,
    vault: &Vault,
    actor: &str,
    digest: &DocumentDigest,
) -> Result<u64, ApiError> {
    let now = bus.clock().now();
    let ctx = CommandContext::new(actor);
    let outcome = bus
        .decide::<Identity, _>(
            &ctx,
            identity_stream(digest),
            &IdentityCommand::Shred { at: now },
            |_| Done {},
        )
        .await
        .map_err(|e| ApiError::from(e.map_rejected(identity_error)))?;
    vault
        .shred(digest.as_str())
        .await
        .map_err(ApiError::internal)?;
    Ok(outcome.position())
}

/// A person's registration facts folded from their streams (`person-<id>` gives the digest,
/// `identity-<digest>` the registration), as the `people` read model would hold them.
pub async fn person_facts(
    bus: &CommandBus,
    person: PersonId,
) -> Result<Option<projections::people::PersonRow>, ApiError> {
    let created = bus
        .store()
        .read_stream(&person_stream(person), None)
        .await
        .map_err(ApiError::internal)?;
    let Some(first) = created.first() else {
        return Ok(None);
    };
    let domain::person::PersonEvent::PersonCreated { digest, .. } =
        domain::person::PersonEvent::decode(
            &first.event_type,
            first.schema_version,
            &first.payload,
        )
        .map_err(decode_failed)?
    else {
        return Ok(None);
    };
    let registration = bus
        .store()
        .read_stream(&identity_stream(&digest), None)
        .await
        .map_err(ApiError::internal)?;
    for e in registration {
        if let domain::identity::IdentityEvent::PersonRegistered {
            person_id,
            document_kind,
            profile,
            sex,
            birth_date,
            at,
        } = domain::identity::IdentityEvent::decode(&e.event_type, e.schema_version, &e.payload)
            .map_err(decode_failed)?
        {
            if person_id == person {
                return Ok(Some(projections::people::PersonRow {
                    person_id: person.to_string(),
                    digest: digest.to_string(),
                    document_kind,
                    profile: Some(profile.as_str().to_owned()),
                    sex: sex.map(|s| match s {
                        domain::document::Sex::Male => "male".to_owned(),
                        domain::document::Sex::Female => "female".to_owned(),
                    }),
                    birth_date: birth_date.map(|d| d.to_string()),
                    registered_at: at.unix_timestamp(),
                }));
            }
        }
    }
    Ok(None)
}
