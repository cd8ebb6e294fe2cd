//! `POST /v1/appeals`: a citizen appeals against an active red reason; the feed decides.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use services::citizens::{self, AppealFiled};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::answer::{created, Positioned, Unauthenticated};
use crate::error::{ApiError, Problem};
use crate::extract::{CommandBody, SignedIn};
use crate::state::AppState;

/// `POST /v1/appeals`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AppealRequest {
    /// The active red reason appealed against.
    pub reason: String,
}

/// The appeal filed.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppealCreated {
    pub appeal_id: Uuid,
}

impl From<AppealFiled> for AppealCreated {
    fn from(filed: AppealFiled) -> Self {
        AppealCreated {
            appeal_id: filed.appeal_id,
        }
    }
}

/// Appeals against an active red reason; the feed decides.
#[utoipa::path(post, path = "/v1/appeals", tag = "citizens", request_body = AppealRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Filed", body = Positioned<AppealCreated>),
        (status = 401, response = Unauthenticated),
        (status = 409, description = "No such active reason (`appeal.reason_not_active`) or one already open (`appeal.already_open`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown reason", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn file_appeal(
    state: web::Data<AppState>,
    person: SignedIn,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let request: AppealRequest = body.parse()?;
    let ctx = body.context(person.actor())?;
    let outcome = citizens::file_appeal(&state.services, &ctx, person.0, &request.reason).await?;
    Ok(created(outcome, AppealCreated::from))
}
