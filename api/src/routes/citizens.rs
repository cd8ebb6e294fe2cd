//! Citizen routes: sessions, own profile and code, family members, declarations, entries,
//! histories and appeals.

use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use domain::access::{AccessedData, Accessor};
use domain::health::{DeclarationInput, EntryInput};
use domain::identity::{PersonId, RedReason};
use domain::person::Relation;
use projections::histories::{self, HistoryKind};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth;
use crate::error::{ApiError, Problem};
use crate::routes::audit::page_limit;
use crate::routes::{command_context, created, ok, parse_body, person_row};
use crate::state::AppState;
use crypto::{qr, session};
use services::citizens::{self, VerifiedIdentity};

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

async fn verify_assertion(state: &AppState, token: &str) -> Result<VerifiedIdentity, ApiError> {
    Ok(citizens::verify_assertion(&state.services, token).await?)
}

/// `POST /v1/sessions`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SessionRequest {
    /// An identity assertion (EdDSA-signed JWT) from a trusted identity provider.
    pub assertion: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionCreated {
    /// Bearer token for the citizen routes.
    pub token: String,
    pub person_id: Uuid,
    pub expires_at: String,
    /// Whether this login registered the person.
    pub registered: bool,
    pub position: u64,
}

/// Logs in with an identity assertion; the first login registers the person.
#[utoipa::path(post, path = "/v1/sessions", tag = "citizens",
    request_body = SessionRequest,
    responses(
        (status = 201, description = "Logged in", body = SessionCreated),
        (status = 401, description = "Assertion tampered, expired, from an untrusted key, or already used", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The asserted document, name or phone is invalid", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_session(
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let request: SessionRequest = parse_body(&body)?;
    let who = verify_assertion(&state, &request.assertion).await?;
    let (answer, position) = citizens::login(&state.services, &who).await?;
    // Usually the session is usable at once because the read models include the
    // registration; if they lag, the session is still issued (the assertion is spent) and
    // clients use `min_position` as everywhere else.
    let _caught_up = state.wait_for(Some(position)).await.is_ok();
    let (token, expires_at) = session::issue(
        &state.services.keys.session_key,
        answer.person_id.as_uuid(),
        state.clock.now(),
        time::Duration::hours(session::DEFAULT_TTL_HOURS),
    );
    Ok(HttpResponse::Created().json(SessionCreated {
        token,
        person_id: answer.person_id.as_uuid(),
        expires_at: rfc3339(expires_at),
        registered: answer.registered,
        position,
    }))
}

/// Read-your-writes.
#[derive(Debug, Deserialize, IntoParams)]
pub struct MinPosition {
    /// Wait (up to 5 s, else 503) until the read models have applied this log position.
    pub min_position: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentView {
    #[serde(rename = "type")]
    pub kind: String,
    pub number: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleView {
    /// `citizen`, `guardian`, `org_admin`, `org_member`, `venue_admin`, `venue_inspector`,
    /// `region_admin`, …
    pub role: String,
    /// What the role covers (a region code), when it is scoped.
    pub scope: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub person_id: Uuid,
    /// Null once the person's data key was shredded.
    pub name: Option<String>,
    pub phone: Option<String>,
    pub document: Option<DocumentView>,
    pub sex: Option<String>,
    pub birth_date: Option<String>,
    pub roles: Vec<RoleView>,
}

/// The logged-in person, unmasked, with the roles the log gives them.
#[utoipa::path(get, path = "/v1/me", tag = "citizens", params(MinPosition),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Own data", body = Me),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn me(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<MinPosition>,
) -> Result<web::Json<Me>, ApiError> {
    let person = auth::person(&req, &state).await?;
    state.wait_for(query.min_position).await?;
    let row = person_row(&state, person).await?;
    let profile =
        citizens::open_profile(&state.services, &row.digest, row.profile.as_deref()).await?;
    let mut roles = vec![RoleView {
        role: "citizen".into(),
        scope: None,
    }];
    let family = projections::people::family(&state.services.db, &row.person_id)
        .await
        .map_err(ApiError::internal)?;
    if !family.is_empty() {
        roles.push(RoleView {
            role: "guardian".into(),
            scope: None,
        });
    }
    if let Some(org) = projections::orgs::of_admin(&state.services.db, &row.person_id)
        .await
        .map_err(ApiError::internal)?
    {
        roles.push(RoleView {
            role: "org_admin".into(),
            scope: Some(org.org_id),
        });
    }
    for org in projections::orgs::of_member(&state.services.db, &row.person_id)
        .await
        .map_err(ApiError::internal)?
    {
        roles.push(RoleView {
            role: "org_member".into(),
            scope: Some(org.org_id),
        });
    }
    if let Some(venue) = projections::venues::of_admin(&state.services.db, &row.person_id)
        .await
        .map_err(ApiError::internal)?
    {
        roles.push(RoleView {
            role: "venue_admin".into(),
            scope: Some(venue.venue_id),
        });
    }
    for venue in projections::venues::of_inspector(&state.services.db, &row.person_id)
        .await
        .map_err(ApiError::internal)?
    {
        roles.push(RoleView {
            role: "venue_inspector".into(),
            scope: Some(venue.venue_id),
        });
    }
    for region in projections::people::admin_regions(&state.services.db, &row.digest)
        .await
        .map_err(ApiError::internal)?
    {
        roles.push(RoleView {
            role: "region_admin".into(),
            scope: Some(region),
        });
    }
    Ok(web::Json(Me {
        person_id: person.as_uuid(),
        name: profile.as_ref().map(|p| p.name.clone()),
        phone: profile.as_ref().and_then(|p| p.phone.clone()),
        document: profile.map(|p| DocumentView {
            kind: p.document_type,
            number: p.document_number,
        }),
        sex: row.sex,
        birth_date: row.birth_date,
        roles,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReasonView {
    /// The red reason's wire name.
    pub reason: String,
    /// Its label as shown on the code.
    pub label: String,
    pub since: String,
    /// The feed record it came from.
    pub source: String,
    /// How it is released.
    pub guidance: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CodeView {
    pub person_id: Uuid,
    /// The signed QR payload; valid long-term (the colour is resolved when scanned).
    pub token: String,
    /// `green` or `red`.
    pub colour: String,
    pub reasons: Vec<ReasonView>,
}

/// The code of `person`, its colour and active red reasons.
pub(crate) async fn code_view(state: &AppState, person: PersonId) -> Result<CodeView, ApiError> {
    let row = person_row(state, person).await?;
    let reasons = projections::health_codes::reasons(&state.services.db, &row.digest)
        .await
        .map_err(ApiError::internal)?;
    let reasons = reasons
        .into_iter()
        .map(|r| {
            let reason = RedReason::parse(&r.reason).ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!(
                    "unknown red reason {:?} in read model",
                    r.reason
                ))
            })?;
            Ok(ReasonView {
                reason: r.reason,
                label: reason.label().into(),
                since: OffsetDateTime::from_unix_timestamp(r.since)
                    .map(crate::routes::cst)
                    .unwrap_or_default(),
                source: r.record_id,
                guidance: reason.guidance().into(),
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(CodeView {
        person_id: person.as_uuid(),
        token: state.services.keys.code_keys.sign(person.as_uuid()),
        colour: domain::health_code::Colour::of(
            reasons
                .iter()
                .filter_map(|r| RedReason::parse(&r.reason))
                .collect::<Vec<_>>()
                .iter(),
        )
        .as_str()
        .into(),
        reasons,
    })
}

/// Own health code: token, colour, red reasons with release guidance.
#[utoipa::path(get, path = "/v1/me/code", tag = "citizens", params(MinPosition),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The code", body = CodeView),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn my_code(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<MinPosition>,
) -> Result<web::Json<CodeView>, ApiError> {
    let person = auth::person(&req, &state).await?;
    state.wait_for(query.min_position).await?;
    Ok(web::Json(code_view(&state, person).await?))
}

/// Own health code as a QR image coloured by the current colour.
#[utoipa::path(get, path = "/v1/me/code.svg", tag = "citizens", params(MinPosition),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "SVG image", content_type = "image/svg+xml", body = String),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn my_code_svg(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<MinPosition>,
) -> Result<HttpResponse, ApiError> {
    let person = auth::person(&req, &state).await?;
    state.wait_for(query.min_position).await?;
    let code = code_view(&state, person).await?;
    let colour = if code.colour == "red" {
        qr::QrColour::Red
    } else {
        qr::QrColour::Green
    };
    let svg = qr::code_svg(&code.token, colour).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header(("cache-control", "no-store"))
        .body(svg))
}

/// `POST /v1/me/family`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AddMemberRequest {
    /// The member's own identity assertion (face), or a household or birth-certificate match
    /// asserted by the provider for a minor.
    pub assertion: String,
    /// `child`, `parent`, `spouse`, `grandparent`, `grandchild`, `sibling` or `other`.
    pub relation: String,
}

// The documented answer shape (the handler builds it from the command outcome).
#[allow(dead_code)]
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberAddedView {
    pub person_id: Uuid,
    pub position: u64,
}

/// Adds a family member (registering them if new). No upper limit.
#[utoipa::path(post, path = "/v1/me/family", tag = "family", request_body = AddMemberRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Added", body = MemberAddedView),
        (status = 401, description = "No session, or the member's assertion is refused or replayed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already a member (`family.already_member`) or oneself (`family.self`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad relation, document, or a household match for an adult", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn add_family_member(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let guardian = auth::person(&req, &state).await?;
    let request: AddMemberRequest = parse_body(&body)?;
    let relation = Relation::parse(&request.relation).ok_or_else(|| {
        ApiError::invalid(
            "relation",
            "relation.unknown",
            "relation is child, parent, spouse, grandparent, grandchild, sibling or other",
        )
    })?;
    let ctx = command_context(&req, &body, format!("person-{guardian}"))?;
    let member = verify_assertion(&state, &request.assertion).await?;
    let outcome =
        citizens::add_family_member(&state.services, &ctx, guardian, &member, relation).await?;
    created(&outcome)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FamilyMemberView {
    pub person_id: Uuid,
    /// The member's name, masked (`张*强`).
    pub name_masked: String,
    pub relation: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FamilyList {
    pub items: Vec<FamilyMemberView>,
    pub next: Option<String>,
}

/// The family members, oldest first, names masked.
#[utoipa::path(get, path = "/v1/me/family", tag = "family", params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Members", body = FamilyList),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_family(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<FamilyList>, ApiError> {
    let guardian = auth::person(&req, &state).await?;
    let limit = page_limit(query.limit)? as usize;
    let offset = cursor(query.after.as_deref())?.unwrap_or(0);
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    state.wait_for(query.min_position).await?;
    let rows = projections::people::family(&state.services.db, &guardian.to_string())
        .await
        .map_err(ApiError::internal)?;
    let more = rows.len() > offset.saturating_add(limit);
    let mut items = Vec::with_capacity(limit);
    for row in rows.into_iter().skip(offset).take(limit) {
        items.push(FamilyMemberView {
            person_id: Uuid::parse_str(&row.person_id).map_err(ApiError::internal)?,
            name_masked: citizens::masked_name(
                &state.services,
                &row.digest,
                row.profile.as_deref(),
            )
            .await?,
            relation: row.relation,
        });
    }
    Ok(web::Json(FamilyList {
        items,
        next: more.then(|| (offset + limit).to_string()),
    }))
}

/// A page cursor from a previous answer's `next`.
pub(crate) fn cursor(after: Option<&str>) -> Result<Option<u64>, ApiError> {
    after
        .map(|raw| {
            raw.parse::<u64>().map_err(|_| {
                ApiError::invalid(
                    "after",
                    "page.cursor",
                    "after is a cursor from a previous page",
                )
            })
        })
        .transpose()
}

fn path_person(raw: &str) -> Result<PersonId, ApiError> {
    PersonId::parse(raw)
        .ok_or_else(|| ApiError::not_found("person.unknown", format!("{raw:?} is not a person id")))
}

/// Removes a family member.
#[utoipa::path(delete, path = "/v1/me/family/{person_id}", tag = "family",
    params(("person_id" = Uuid, Path, description = "The member")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Removed", body = crate::routes::PositionView),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not a family member", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn remove_family_member(
    req: HttpRequest,
    state: web::Data<AppState>,
    member: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let guardian = auth::person(&req, &state).await?;
    let member = path_person(&member)?;
    let ctx = command_context(&req, &[], format!("person-{guardian}"))?;
    let outcome = citizens::remove_family_member(&state.services, &ctx, guardian, member).await?;
    ok(&outcome)
}

/// A family member's code (the access is recorded in the member's access log).
#[utoipa::path(get, path = "/v1/me/family/{person_id}/code", tag = "family",
    params(("person_id" = Uuid, Path, description = "The member"), MinPosition),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The member's code", body = CodeView),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not a family member", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn family_member_code(
    req: HttpRequest,
    state: web::Data<AppState>,
    member: web::Path<String>,
    query: web::Query<MinPosition>,
) -> Result<web::Json<CodeView>, ApiError> {
    let guardian = auth::person(&req, &state).await?;
    let member = path_person(&member)?;
    state.wait_for(query.min_position).await?;
    let family = projections::people::family(&state.services.db, &guardian.to_string())
        .await
        .map_err(ApiError::internal)?;
    if !family.iter().any(|m| m.person_id == member.to_string()) {
        return Err(ApiError::not_found(
            "family.not_a_member",
            "this person is not a member of your family",
        ));
    }
    citizens::record_access(
        &state.services,
        &format!("person-{guardian}"),
        member,
        Accessor::Guardian {
            person_id: guardian,
        },
        AccessedData::Code,
    )
    .await?;
    Ok(web::Json(code_view(&state, member).await?))
}

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

// The documented answer shape (the handler builds it from the command outcome).
#[allow(dead_code)]
#[derive(Debug, Serialize, ToSchema)]
pub struct DeclarationCreated {
    pub declaration_id: Uuid,
    pub position: u64,
}

/// Files a health declaration for oneself or a family member. Immutable; a newer one
/// supersedes it.
#[utoipa::path(post, path = "/v1/declarations", tag = "declarations", request_body = DeclarationRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Filed", body = DeclarationCreated),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The subject is not oneself or a family member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`org_id` names an organisation the subject is not bound to (`org.not_bound`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid declaration (each field and rule listed)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn file_declaration(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let actor = auth::person(&req, &state).await?;
    let request: DeclarationRequest = parse_body(&body)?;
    let declaration = DeclarationInput {
        temperature_c: request.temperature_c,
        band: request.band.as_deref(),
        symptoms: &request.symptoms,
        contact_14d: request.contact_14d,
        visited: &request.visited,
        region: &request.region,
    };
    let subject = request.subject_id.map_or(actor, PersonId::new);
    let ctx = command_context(&req, &body, format!("person-{actor}"))?;
    let outcome = citizens::file_declaration(
        &state.services,
        &ctx,
        actor,
        subject,
        request.org_id,
        &declaration,
    )
    .await?;
    created(&outcome)
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

// The documented answer shape (the handler builds it from the command outcome).
#[allow(dead_code)]
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryCreated {
    pub entry_id: Uuid,
    pub position: u64,
}

/// Registers an entry into Guangdong (入粤登记).
#[utoipa::path(post, path = "/v1/entries", tag = "declarations", request_body = EntryRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Registered", body = EntryCreated),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid entry (each field and rule listed)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn register_entry(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let person = auth::person(&req, &state).await?;
    let request: EntryRequest = parse_body(&body)?;
    let entry = EntryInput {
        origin: &request.origin,
        transport: &request.transport,
        trip_number: request.trip_number.as_deref(),
        arrival_date: &request.arrival_date,
        destination: &request.destination,
    };
    let ctx = command_context(&req, &body, format!("person-{person}"))?;
    let outcome = citizens::register_entry(&state.services, &ctx, person, &entry).await?;
    created(&outcome)
}

/// Paging of the "my" lists.
#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    /// 1 to 500, default 50.
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Read-your-writes: wait until the read models have applied this position.
    pub min_position: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryPage {
    /// Newest first.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<serde_json::Value>,
    pub next: Option<String>,
}

async fn history(
    req: &HttpRequest,
    state: &AppState,
    query: &PageQuery,
    kind: HistoryKind,
) -> Result<web::Json<HistoryPage>, ApiError> {
    let person = auth::person(req, state).await?;
    let limit = page_limit(query.limit)?;
    let before = cursor(query.after.as_deref())?;
    state.wait_for(query.min_position).await?;
    let page = histories::page(&state.services.db, &person.to_string(), kind, before, limit)
        .await
        .map_err(ApiError::internal)?;
    Ok(web::Json(HistoryPage {
        items: page.items,
        next: page.next.map(|n| n.to_string()),
    }))
}

macro_rules! history_route {
    ($name:ident, $path:literal, $kind:expr, $what:literal) => {
        #[doc = $what]
        #[utoipa::path(get, path = $path, tag = "histories", params(PageQuery),
            security(("bearer" = [])),
            responses(
                (status = 200, description = $what, body = HistoryPage),
                (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
            ))]
        pub async fn $name(
            req: HttpRequest,
            state: web::Data<AppState>,
            query: web::Query<PageQuery>,
        ) -> Result<web::Json<HistoryPage>, ApiError> {
            history(&req, &state, &query, $kind).await
        }
    };
}

history_route!(
    my_declarations,
    "/v1/me/declarations",
    HistoryKind::Declarations,
    "Own health declarations, newest first (the newest is the one in force)."
);
history_route!(
    my_entries,
    "/v1/me/entries",
    HistoryKind::Entries,
    "Own entry registrations, newest first."
);
history_route!(
    my_checks,
    "/v1/me/checks",
    HistoryKind::Checks,
    "Own temperature checks, newest first."
);
history_route!(
    my_notices,
    "/v1/me/notices",
    HistoryKind::Notices,
    "Notices for me (appeal decisions, release notices), newest first."
);
history_route!(
    my_access_log,
    "/v1/me/access-log",
    HistoryKind::AccessLog,
    "Who read my data (guardian, venue, grid, medical staff) and when, newest first."
);

/// `POST /v1/appeals`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AppealRequest {
    /// The active red reason appealed against.
    pub reason: String,
}

// The documented answer shape (the handler builds it from the command outcome).
#[allow(dead_code)]
#[derive(Debug, Serialize, ToSchema)]
pub struct AppealCreated {
    pub appeal_id: Uuid,
    pub position: u64,
}

/// Appeals against an active red reason; the feed decides.
#[utoipa::path(post, path = "/v1/appeals", tag = "citizens", request_body = AppealRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Filed", body = AppealCreated),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No such active reason (`appeal.reason_not_active`) or one already open (`appeal.already_open`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown reason", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn file_appeal(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let person = auth::person(&req, &state).await?;
    let request: AppealRequest = parse_body(&body)?;
    let reason = RedReason::parse(&request.reason).ok_or_else(|| {
        ApiError::invalid(
            "reason",
            "reason.unknown",
            format!(
                "reason is one of {}",
                RedReason::ALL.map(RedReason::as_str).join(", ")
            ),
        )
    })?;
    let row = person_row(&state, person).await?;
    let digest = domain::document::DocumentDigest::parse(row.digest)
        .map_err(|why| ApiError::internal(anyhow::anyhow!(why)))?;
    let ctx = command_context(&req, &body, format!("person-{person}"))?;
    let outcome = citizens::file_appeal(&state.services, &ctx, person, &digest, reason).await?;
    created(&outcome)
}
