//! Service accounts over HTTP: the province admin revokes one (the operator also can, with
//! `yuekang service-account revoke ID`); its token is refused from that commit on.

use actix_web::{web, HttpResponse};
use services::province;

use crate::answer::{PositionView, Unauthenticated};
use crate::error::{ApiError, Problem};
use crate::extract::SignedIn;
use crate::state::AppState;

/// Revokes a service account (the province admin only): its token stops working at once.
#[utoipa::path(delete, path = "/v1/service-accounts/{account_id}", tag = "roles",
    params(("account_id" = uuid::Uuid, Path, description = "The account")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Revoked", body = PositionView),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not the province admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account (`service_account.unknown`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already revoked (`service_account.revoked`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke(
    state: web::Data<AppState>,
    by: SignedIn,
    account_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    province::permit(&state.services, by.0).await?;
    let position =
        services::service_accounts::revoke(&state.services.bus, &by.actor(), &account_id).await?;
    Ok(HttpResponse::Ok().json(PositionView { position }))
}
