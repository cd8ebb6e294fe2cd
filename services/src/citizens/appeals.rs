//! Appeals against a red reason, and the feed's decisions on them.

use super::*;

/// The answer to an appeal.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppealFiled {
    pub appeal_id: Uuid,
}

/// Files an appeal by `person` (whose document digest is `digest`) against `reason`.
pub async fn file_appeal(
    services: &Services,
    ctx: &CommandContext,
    person: PersonId,
    reason: &str,
) -> Result<commands::Outcome<AppealFiled>, ServiceError> {
    let reason = RedReason::parse(reason).ok_or_else(|| {
        ServiceError::invalid(
            "reason",
            "reason.unknown",
            format!(
                "reason is one of {}",
                RedReason::ALL.map(RedReason::as_str).join(", ")
            ),
        )
    })?;
    // The appeal goes to the document the reason is recorded against (the registration's
    // own when none holds it, which refuses it as not active).
    let (facts, code) = person_documents(services, person).await?;
    let mut digest = person_digest(services, person).await?;
    for candidate in documents(&facts, &code)? {
        let state =
            crate::support::fold::<Identity>(services, &streams::identity(&candidate)).await?;
        if state.active_reasons().contains(&reason) {
            digest = candidate;
            break;
        }
    }
    let digest = &digest;
    let now = services.now();
    let appeal_id = domain::identity::AppealId::new(Uuid::now_v7());
    services
        .bus
        .decide::<Identity, _>(
            ctx,
            streams::identity(digest),
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
        .map_err(|e| ServiceError::from(e.map_rejected(ServiceError::refused)))
}

/// The feed's decision on an appeal.
pub(crate) async fn decide_appeal(
    services: &Services,
    ctx: &CommandContext,
    digest: &DocumentDigest,
    appeal_id: Uuid,
    granted: bool,
    detail: String,
) -> Result<commands::Outcome<Done>, ServiceError> {
    let now = services.now();
    services
        .bus
        .decide::<Identity, _>(
            ctx,
            streams::identity(digest),
            &IdentityCommand::DecideAppeal {
                appeal_id: domain::identity::AppealId::new(appeal_id),
                granted,
                detail,
                at: now,
            },
            |_| Done {},
        )
        .await
        .map_err(|e| ServiceError::from(e.map_rejected(ServiceError::refused)))
}
