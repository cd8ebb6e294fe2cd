//! Creating service accounts (the operator's `yuekang service-account create`).

use commands::{CommandBus, CommandContext};
use domain::service_account::{
    ServiceAccount, ServiceAccountCommand, ServiceAccountName, ServiceRole, TokenHash,
};

use crypto::token::{new_service_token, token_hash};

use crate::{streams, ServiceError, ServiceResult};

/// A created account: its id, its token (shown once) and the position of its event.
#[derive(Debug, Clone)]
pub struct Created {
    pub account_id: uuid::Uuid,
    pub token: String,
    pub position: u64,
}

/// Creates an account with `role` and `name`, as the operator (no keys needed: the token is
/// drawn here and only its hash recorded).
pub async fn create(bus: &CommandBus, role: &str, name: &str) -> ServiceResult<Created> {
    let role = ServiceRole::parse(role).map_err(ServiceError::refused)?;
    let name = ServiceAccountName::parse(name).map_err(ServiceError::refused)?;
    let token = new_service_token();
    let account_id = uuid::Uuid::now_v7();
    let stream = streams::service_account(account_id);
    let command = ServiceAccountCommand::Create {
        role,
        name,
        token_hash: TokenHash(token_hash(&token)),
        at: bus.clock().now(),
    };
    let outcome = bus
        .decide::<ServiceAccount, _>(&CommandContext::new("operator"), stream, &command, |_| ())
        .await
        .map_err(|e| ServiceError::from(e.map_rejected(ServiceError::refused)))?;
    Ok(Created {
        account_id,
        token,
        position: outcome.position(),
    })
}

/// Revokes the account `raw` (its id): its token is refused from this commit on. `404
/// service_account.unknown`, `409 service_account.revoked` when it already is.
pub async fn revoke(bus: &CommandBus, actor: &str, raw: &str) -> ServiceResult<u64> {
    let account_id = uuid::Uuid::parse_str(raw.trim()).map_err(|_| {
        ServiceError::refused(domain::service_account::ServiceAccountError::Unknown)
    })?;
    let outcome = bus
        .decide::<ServiceAccount, _>(
            &CommandContext::new(actor),
            streams::service_account(account_id),
            &ServiceAccountCommand::Revoke {
                at: bus.clock().now(),
            },
            |_| (),
        )
        .await
        .map_err(|e| ServiceError::from(e.map_rejected(ServiceError::refused)))?;
    Ok(outcome.position())
}
