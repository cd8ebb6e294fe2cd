//! Creating service accounts (the operator's `yuekang service-account create`).

use commands::{CommandBus, CommandContext};
use domain::service_account::{
    ServiceAccount, ServiceAccountCommand, ServiceAccountName, ServiceRole, TokenHash,
};
use event_store::StreamId;

use crate::auth::{token_hash, SERVICE_TOKEN_PREFIX};

/// A created account: its id, its token (shown once) and the position of its event.
#[derive(Debug, Clone)]
pub struct Created {
    pub account_id: uuid::Uuid,
    pub token: String,
    pub position: u64,
}

/// Creates an account with `role` and `name`, as the operator.
pub async fn create(bus: &CommandBus, role: &str, name: &str) -> anyhow::Result<Created> {
    let role = ServiceRole::parse(role)?;
    let name = ServiceAccountName::parse(name)?;
    let secret: String = [uuid::Uuid::new_v4(), uuid::Uuid::new_v4()]
        .iter()
        .map(|u| hex::encode(u.as_bytes()))
        .collect();
    let token = format!("{SERVICE_TOKEN_PREFIX}{secret}");
    let account_id = uuid::Uuid::now_v7();
    let stream = StreamId::of(projections::service_accounts::CATEGORY, account_id);
    let command = ServiceAccountCommand::Create {
        role,
        name,
        token_hash: TokenHash(token_hash(&token)),
        at: bus.clock().now(),
    };
    let outcome = bus
        .decide::<ServiceAccount, _>(&CommandContext::new("operator"), stream, &command, |_| ())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Created {
        account_id,
        token,
        position: outcome.position(),
    })
}
