//! Helpers shared by the use cases: folding one stream outside a command, events to append
//! grouped by stream, creating an aggregate that claims its admin and a fresh binding code in
//! the same atomic append, field collection and phone sealing.

use commands::{CommandContext, CommandError, Decision, Outcome};
use domain::claim::{Claim, ClaimCommand, ClaimState};
use domain::code::{BindingCode, CodeKind};
use domain::{Decider, DomainEvent, EncodedEvent};
use event_store::{EventReader, StreamId};
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

use crate::error::ServiceError;

/// Reads `stream` and folds it through `D` (for reads and pre-checks; commands fold what
/// they loaded).
pub async fn fold<D>(
    services: &crate::Services,
    stream: &StreamId,
) -> Result<D::State, ServiceError>
where
    D: Decider,
    D::Event: DomainEvent,
{
    Ok(D::fold(&events::<D::Event>(services, stream).await?))
}

/// Reads `stream` and decodes its events, oldest first.
pub async fn events<E: DomainEvent>(
    services: &crate::Services,
    stream: &StreamId,
) -> Result<Vec<E>, ServiceError> {
    services
        .bus
        .store()
        .read_stream(stream, None)
        .await
        .map_err(ServiceError::internal)?
        .iter()
        .map(|e| E::decode(&e.event_type, e.schema_version, &e.payload))
        .collect::<Result<Vec<_>, _>>()
        .map_err(ServiceError::internal)
}

/// A phone as shown to others (`139****5678`); empty when unknown or not a mobile number.
pub fn masked_phone(phone: Option<&str>) -> String {
    phone
        .and_then(|p| domain::document::MobilePhone::parse(p).ok())
        .map(|p| p.masked())
        .unwrap_or_default()
}

/// What refusing a second aggregate to the same admin says.
#[derive(Debug, Clone, Copy)]
pub struct AdminHasOne {
    /// The problem code (`org.admin_has_org`).
    pub code: &'static str,
    /// What the admin already has (`organisation`).
    pub noun: &'static str,
    /// The extension naming the existing one (`org_id`).
    pub id_field: &'static str,
}

/// Why one draw of a code did not create the aggregate.
enum Draw {
    Refused(ServiceError),
    /// The drawn code is someone else's: draw again.
    CodeTaken,
}

/// Creates the aggregate `holder` administered by the owner of `admin_claim`: claims the
/// admin (one aggregate per admin) and a fresh code of `kind` (drawn again when taken), and
/// appends what `create(code)` decides, all in one atomic append.
pub async fn create_with_code<R>(
    services: &crate::Services,
    ctx: &CommandContext,
    admin_claim: StreamId,
    holder: Uuid,
    kind: CodeKind,
    admin_has: AdminHasOne,
    create: impl Fn(BindingCode) -> Result<(StreamId, Vec<EncodedEvent>, R), ServiceError>,
) -> Result<Outcome<R>, ServiceError>
where
    R: Serialize + DeserializeOwned,
{
    let now = services.now();
    let take = ClaimCommand::Take { holder, at: now };
    // A collision is rare while the kind's space is far from full (see crate::codes).
    for _ in 0..crate::codes::DRAWS {
        let code = services.codes.draw(kind);
        let c_stream = crate::streams::code(&code);
        let streams = [admin_claim.clone(), c_stream.clone()];
        let result = services
            .bus
            .execute(ctx, &streams, |loaded| {
                let internal =
                    |e: domain::EventDecodeError| Draw::Refused(ServiceError::internal(e));
                let admin = loaded.fold::<Claim>(&admin_claim).map_err(internal)?;
                let claimed = Claim::decide(&take, &admin).map_err(|_| {
                    let existing = match admin {
                        ClaimState::Held { holder } => holder.to_string(),
                        ClaimState::Free => String::new(),
                    };
                    Draw::Refused(
                        ServiceError::conflict(
                            admin_has.code,
                            format!(
                                "you already administer {} {existing}; one admin has at most one {}",
                                admin_has.noun, admin_has.noun
                            ),
                        )
                        .with(admin_has.id_field, existing),
                    )
                })?;
                let code_claim = loaded.fold::<Claim>(&c_stream).map_err(internal)?;
                let code_claimed =
                    Claim::decide(&take, &code_claim).map_err(|_| Draw::CodeTaken)?;
                let (stream, events, response) = create(code).map_err(Draw::Refused)?;
                let encode = |e: serde_json::Error| Draw::Refused(ServiceError::internal(e));
                let mut decision = Decision::unchanged(response)
                    .append(admin_claim.clone(), &claimed)
                    .map_err(encode)?
                    .append(c_stream.clone(), &code_claimed)
                    .map_err(encode)?;
                decision.appends.push((stream, events));
                Ok(decision)
            })
            .await;
        match result {
            Err(CommandError::Rejected(Draw::CodeTaken)) => {
                services.codes.collided(kind);
                continue;
            }
            other => {
                return other.map_err(|e| {
                    ServiceError::from(e.map_rejected(|r| match r {
                        Draw::Refused(api) => api,
                        Draw::CodeTaken => {
                            ServiceError::conflict("code.taken", "the drawn code was taken")
                        }
                    }))
                })
            }
        }
    }
    services.codes.ran_out(kind);
    tracing::error!(
        kind = crate::codes::name(kind),
        draws = crate::codes::DRAWS,
        "no free binding code: the kind's code space is (nearly) full"
    );
    Err(ServiceError::Unavailable {
        code: "code.exhausted",
        detail: format!(
            "no free {} was found in {} draws: the code space is (nearly) full; \
             the operator has been alerted, try again later",
            kind.describe(),
            crate::codes::DRAWS
        ),
    })
}

/// A new admin-handover token for `target`: `<prefix><target, simple>_<secret>` (the prefix
/// says which kind of aggregate it hands over).
pub(crate) fn handover_token(prefix: &str, target: Uuid) -> String {
    format!(
        "{prefix}{}_{}",
        target.simple(),
        crypto::token::new_service_token().trim_start_matches(crypto::token::SERVICE_TOKEN_PREFIX)
    )
}

/// The aggregate a handover token of `prefix` names: `409 handover.invalid_token` for
/// anything else.
pub(crate) fn handover_target(prefix: &str, token: &str) -> Result<Uuid, ServiceError> {
    token
        .strip_prefix(prefix)
        .and_then(|rest| rest.split_once('_'))
        .and_then(|(target, _)| Uuid::try_parse(target).ok())
        .ok_or_else(|| ServiceError::refused(domain::handover::HandoverError::InvalidToken))
}

/// Moves an admin claim at a handover: `old` (the outgoing admin's claim) released and `new`
/// (the successor's) taken for `holder`, from the claims' states in `loaded`; `taken_by_other`
/// is the refusal when the successor already holds one.
pub(crate) fn move_admin_claim(
    loaded: &commands::Loaded,
    (old, new): (&StreamId, &StreamId),
    holder: Uuid,
    at: time::OffsetDateTime,
    taken_by_other: impl FnOnce() -> ServiceError,
) -> Result<
    (
        Vec<domain::claim::ClaimEvent>,
        Vec<domain::claim::ClaimEvent>,
    ),
    ServiceError,
> {
    let released = Claim::decide(&ClaimCommand::Release { at }, &loaded.fold::<Claim>(old)?)
        .map_err(|e| {
            ServiceError::internal(anyhow::anyhow!("the admin's claim is inconsistent: {e}"))
        })?;
    let taken = Claim::decide(
        &ClaimCommand::Take { holder, at },
        &loaded.fold::<Claim>(new)?,
    )
    .map_err(|_| taken_by_other())?;
    Ok((released, taken))
}

/// A read model's unix seconds as an instant.
pub(crate) fn instant(unix: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// The answer of a command with nothing to say but its position.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Done {}

/// Keeps a parsed value, or records why it was refused (so every field's refusal is listed).
pub fn collect<T>(
    result: Result<T, domain::document::DocumentError>,
    errors: &mut Vec<domain::document::DocumentError>,
) -> Option<T> {
    result.map_err(|e| errors.push(e)).ok()
}

/// Seals a phone under `subject`'s key.
pub async fn seal_phone(
    vault: &crypto::vault::Vault,
    subject: &str,
    phone: &domain::document::MobilePhone,
) -> Result<domain::sealed::Sealed, ServiceError> {
    let sealed = vault
        .seal(subject, phone.as_str().as_bytes())
        .await
        .map_err(ServiceError::internal)?;
    Ok(domain::sealed::Sealed::new(sealed.0))
}

/// Events to append, grouped by stream in first-seen order.
#[derive(Debug, Default)]
pub(crate) struct Appends(Vec<(StreamId, Vec<EncodedEvent>)>);

impl Appends {
    pub(crate) fn push<E: DomainEvent>(
        &mut self,
        stream: &StreamId,
        events: &[E],
    ) -> Result<(), ServiceError> {
        if events.is_empty() {
            return Ok(());
        }
        let encoded = events
            .iter()
            .map(E::encode)
            .collect::<Result<Vec<_>, _>>()?;
        match self.0.iter_mut().find(|(s, _)| s == stream) {
            Some((_, existing)) => existing.extend(encoded),
            None => self.0.push((stream.clone(), encoded)),
        }
        Ok(())
    }

    pub(crate) fn into_decision<R>(self, response: R) -> Decision<R> {
        Decision {
            appends: self.0,
            checks: Vec::new(),
            response,
        }
    }
}
