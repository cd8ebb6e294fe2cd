//! The shapes of answers shared by the routes: a command's answer with its log position, a
//! binding's answer, read-your-writes, and the problem response every route documents alike.

use actix_web::HttpResponse;
use commands::Outcome;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToResponse, ToSchema};

use crate::error::Problem;

/// A command's answer and the log position of its last event (or of the event that already
/// recorded it).
#[derive(Debug, Serialize, ToSchema)]
pub struct Positioned<T> {
    #[serde(flatten)]
    pub answer: T,
    pub position: u64,
}

/// `{"position"}`: what a command without other answer returns.
#[derive(Debug, Serialize, ToSchema)]
pub struct PositionView {
    /// Log position of the command's last event (or of the event that already recorded it).
    pub position: u64,
}

/// `201 Created` with `view` of the outcome's answer and its position.
pub fn created<R, T: Serialize>(outcome: Outcome<R>, view: impl FnOnce(R) -> T) -> HttpResponse {
    HttpResponse::Created().json(positioned(outcome, view))
}

/// `200 OK` with `view` of the outcome's answer and its position.
pub fn ok<R, T: Serialize>(outcome: Outcome<R>, view: impl FnOnce(R) -> T) -> HttpResponse {
    HttpResponse::Ok().json(positioned(outcome, view))
}

/// `200 OK` with the position alone.
pub fn done<R>(outcome: &Outcome<R>) -> HttpResponse {
    HttpResponse::Ok().json(PositionView {
        position: outcome.position(),
    })
}

fn positioned<R, T>(outcome: Outcome<R>, view: impl FnOnce(R) -> T) -> Positioned<T> {
    let position = outcome.position();
    Positioned {
        answer: view(outcome.into_response()),
        position,
    }
}

/// The answer to a binding by code.
#[derive(Debug, Serialize, ToSchema)]
pub struct Binding<T> {
    #[serde(flatten)]
    pub bound: T,
    pub position: u64,
    /// True when the caller was already bound (nothing changed).
    pub already_bound: bool,
}

/// A binding by code: `201` when bound now, `200` with `already_bound` when it was there.
pub fn binding<R, T: Serialize>(outcome: Outcome<R>, view: impl FnOnce(R) -> T) -> HttpResponse {
    let already_bound = matches!(outcome, Outcome::Unchanged { .. });
    let position = outcome.position();
    let body = Binding {
        bound: view(outcome.into_response()),
        position,
        already_bound,
    };
    if already_bound {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::Created().json(body)
    }
}

/// Read-your-writes.
#[derive(Debug, Deserialize, IntoParams)]
pub struct MinPosition {
    /// Wait (up to 5 s, else 503 `projection.lagging`) until the read models have applied
    /// this log position.
    pub min_position: Option<u64>,
}

/// No bearer token, or an invalid or expired one.
#[derive(Debug, ToResponse)]
#[response(
    description = "No or bad bearer token (`auth.unauthenticated`, `session.*`)",
    content_type = "application/problem+json"
)]
pub struct Unauthenticated(#[to_schema] pub Problem);

/// A malformed request: body not JSON, wrong content type, a query value of the wrong shape.
#[derive(Debug, ToResponse)]
#[response(
    description = "Malformed request (`request.malformed_json`, `request.malformed_query`, `request.content_type`, `request.too_large`)",
    content_type = "application/problem+json"
)]
pub struct BadRequest(#[to_schema] pub Problem);

/// Rate limited.
#[derive(Debug, ToResponse)]
#[response(
    description = "Too many requests (`rate.limited`); `Retry-After` says when to try again",
    content_type = "application/problem+json"
)]
pub struct TooManyRequests(#[to_schema] pub Problem);

/// A body of the wrong shape, or fields breaking their rules.
#[derive(Debug, ToResponse)]
#[response(
    description = "The body has the wrong shape (`body.shape`) or breaks a rule (`validation.failed`, fields listed)",
    content_type = "application/problem+json"
)]
pub struct Unprocessable(#[to_schema] pub Problem);

/// The caller may not do this (a role missing, or a service account on a citizen's route).
#[derive(Debug, ToResponse)]
#[response(
    description = "Not allowed (`auth.forbidden`): a role missing, or a service account on a citizen's route",
    content_type = "application/problem+json"
)]
pub struct Forbidden(#[to_schema] pub Problem);

/// The database is out of reach (or a command's commit ended with its outcome unknown).
#[derive(Debug, ToResponse)]
#[response(
    description = "Not available now (`store.unavailable`: the database is out of reach; retry shortly, a command with the same `Idempotency-Key`); `Retry-After` says when",
    content_type = "application/problem+json"
)]
pub struct Unavailable(#[to_schema] pub Problem);

/// A count of people in figures for regions, grids and analysts: the number, or `"<k"` for 1
/// to k-1 people (k = 5 by default), so no figure singles anyone out.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum FigureView {
    Count(i64),
    /// `"<5"`
    FewerThan(String),
}

impl From<services::figures::Figure> for FigureView {
    fn from(figure: services::figures::Figure) -> Self {
        match figure {
            services::figures::Figure::Count(n) => FigureView::Count(n),
            fewer @ services::figures::Figure::FewerThan(_) => {
                FigureView::FewerThan(fewer.to_string())
            }
        }
    }
}

impl std::fmt::Display for FigureView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FigureView::Count(n) => write!(f, "{n}"),
            FigureView::FewerThan(text) => f.write_str(text),
        }
    }
}
