//! Health declarations (for oneself or a family member, optionally for a bound organisation)
//! and entry registrations into Guangdong.

use actix_web::{web, HttpResponse};
use domain::health::{DeclarationInput, EntryInput};
use serde::{Deserialize, Serialize};
use services::citizens::{self, DeclarationFiled, EntryRegistered};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::answer::{created, Positioned, Unauthenticated};
use crate::error::{ApiError, Problem};
use crate::extract::{CommandBody, SignedIn};
use crate::state::AppState;

/// `POST /v1/declarations`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DeclarationRequest {
    /// Self when absent, or a family member.
    pub subject_id: Option<Uuid>,
    /// A bound organisation (see the organisations routes).
    pub org_id: Option<Uuid>,
    /// °C, 34.0 to 43.0; gives the band (fever from 37.3).
    pub temperature_c: Option<f64>,
    /// `normal` or `fever`; required without a temperature.
    pub band: Option<String>,
    #[serde(default)]
    pub symptoms: Vec<String>,
    /// Contact with confirmed or suspected cases in the last 14 days.
    #[serde(default)]
    pub contact_14d: bool,
    /// Places visited in the last 14 days.
    #[serde(default)]
    pub visited: Vec<String>,
    /// Current region (division code).
    pub region: String,
}

/// The declaration filed.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeclarationCreated {
    pub declaration_id: Uuid,
}

impl From<DeclarationFiled> for DeclarationCreated {
    fn from(filed: DeclarationFiled) -> Self {
        DeclarationCreated {
            declaration_id: filed.declaration_id,
        }
    }
}

/// Files a health declaration for oneself or a family member.
#[utoipa::path(post, path = "/v1/declarations", tag = "declarations", request_body = DeclarationRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Filed", body = Positioned<DeclarationCreated>),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "The subject is not oneself or a family member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`org_id` names an organisation the subject is not bound to (`org.not_bound`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid declaration (each field and rule listed)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn file_declaration(
    state: web::Data<AppState>,
    actor: SignedIn,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let request: DeclarationRequest = body.parse()?;
    let declaration = DeclarationInput {
        temperature_c: request.temperature_c,
        band: request.band.as_deref(),
        symptoms: &request.symptoms,
        contact_14d: request.contact_14d,
        visited: &request.visited,
        region: &request.region,
    };
    let ctx = body.context(actor.actor())?;
    let outcome = citizens::file_declaration(
        &state.services,
        &ctx,
        actor.0,
        request.subject_id,
        request.org_id,
        &declaration,
    )
    .await?;
    Ok(created(outcome, DeclarationCreated::from))
}

/// `POST /v1/entries`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EntryRequest {
    /// Where the trip started.
    pub origin: String,
    /// `flight`, `train`, `coach`, `ship`, `car` or `other`.
    pub transport: String,
    /// Required for flight, train, coach and ship.
    pub trip_number: Option<String>,
    /// `YYYY-MM-DD`, within 30 days of today.
    pub arrival_date: String,
    /// Guangdong division code.
    pub destination: String,
}

/// The entry registered.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryCreated {
    pub entry_id: Uuid,
}

impl From<EntryRegistered> for EntryCreated {
    fn from(registered: EntryRegistered) -> Self {
        EntryCreated {
            entry_id: registered.entry_id,
        }
    }
}

/// Registers an entry into Guangdong.
#[utoipa::path(post, path = "/v1/entries", tag = "declarations", request_body = EntryRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Registered", body = Positioned<EntryCreated>),
        (status = 401, response = Unauthenticated),
        (status = 422, description = "Invalid entry (each field and rule listed)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn register_entry(
    state: web::Data<AppState>,
    person: SignedIn,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let request: EntryRequest = body.parse()?;
    let entry = EntryInput {
        origin: &request.origin,
        transport: &request.transport,
        trip_number: request.trip_number.as_deref(),
        arrival_date: &request.arrival_date,
        destination: &request.destination,
    };
    let ctx = body.context(person.actor())?;
    let outcome = citizens::register_entry(&state.services, &ctx, person.0, &entry).await?;
    Ok(created(outcome, EntryCreated::from))
}
