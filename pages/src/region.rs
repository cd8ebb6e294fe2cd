//! The region admin's back office (PC management, from town level up): for each region they
//! administer, the grids inside it with their figures for a day (and a chart), the pending
//! ones to confirm, and appointing the admins of the regions directly below.

use actix_web::{web, HttpRequest, HttpResponse};
use commands::CommandContext;
use maud::html;
use serde::Deserialize;
use services::grids::{self, StatusFilter};

use crate::charts;
use crate::context::Ctx;
use crate::gate::{signed_in, signed_in_post};
use crate::layout::{self, csrf_field, field};
use crate::messages::{self, Problems};
use crate::PagesState;

async fn render(
    ctx: &Ctx,
    state: &PagesState,
    person: domain::identity::PersonId,
    date: Option<&str>,
    problems: &Problems,
    done: Option<&str>,
) -> HttpResponse {
    let services = &state.services;
    let digest = match services::citizens::person_facts(services, person).await {
        Ok(facts) => facts.digest,
        Err(e) => {
            return ctx.page(layout::page(
                ctx,
                "区域管理",
                layout::notice("bad", &messages::general(&e)),
            ))
        }
    };
    let regions = projections::people::admin_regions(&services.db, &digest)
        .await
        .unwrap_or_default();
    if regions.is_empty() {
        return ctx.page_with(
            actix_web::http::StatusCode::FORBIDDEN,
            layout::page(ctx, "区域管理", layout::notice("bad", "您不是区域管理员")),
        );
    }
    let day = services::calendar::asked_day(date.filter(|d| !d.is_empty()), services.now())
        .unwrap_or_else(|_| domain::week::today(services.now()));
    let mut sections = Vec::new();
    for region in &regions {
        let listed = match grids::authorize_region_viewer(services, region, person).await {
            Ok(viewer) => grids::region_grids(services, &viewer, StatusFilter::Any, day).await,
            Err(e) => Err(e),
        };
        sections.push((region.clone(), listed));
    }
    let refused = problems.general.is_some() || !problems.fields.is_empty();
    let content = html! {
        @if let Some(done) = done { div id="done" { (layout::notice("good", done)) } }
        @if let Some(general) = &problems.general { (layout::notice("bad", general)) }
        (layout::date_picker("/region", &day.to_string(), None))
        @for (region, listed) in &sections {
            section class="card" id=(format!("region-{region}")) {
                h2 { "区域 " (region) }
                @match listed {
                    Ok(rows) => {
                        @let pending: Vec<_> = rows.iter().filter(|r| r.status == "pending").collect();
                        @if !pending.is_empty() {
                            h3 { "待确认的网格" }
                            ul {
                                @for g in &pending {
                                    li {
                                        (g.name) "（" (g.region) "）"
                                        form method="post" action=(format!("/region/grids/{}/confirmation", g.grid_id)) class="inline" {
                                            (csrf_field(ctx))
                                            button type="submit" class="secondary" id=(format!("confirm-{}", g.code)) { "确认" }
                                        }
                                    }
                                }
                            }
                        }
                        (charts::bars(&format!("visits-{region}"), "当日各网格走访", &rows.iter().filter(|r| r.status == "active").map(|r| (r.name.clone(), state.services.figure(r.visits_today).chart_value())).collect::<Vec<_>>()))
                        table {
                            thead { tr { th { "网格" } th { "状态" } th { "网格员" } th { "当日走访" } th { "累计走访" } } }
                            tbody {
                                @for g in rows {
                                    tr { td { (g.name) br; small { (g.region) } } td { (match g.status.as_str() { "pending" => "待确认", "active" => "已确认", _ => "已解散" }) } td { (g.workers) "（授权 " (g.authorised) "）" } td { (state.services.figure(g.visits_today)) } td { (state.services.figure(g.visits_total)) } }
                                }
                            }
                        }
                    }
                    Err(e) => { (layout::notice("bad", &messages::general(e))) }
                }
            }
        }
        form method="post" action="/region/admins" class="card" novalidate {
            h2 { "任命下级区域管理员" }
            (csrf_field(ctx))
            (field("region", "下级区域代码", "", "text", problems.field("region"), None))
            (field("number", "居民身份证号码", "", "text", problems.field("document"), Some("被任命人需已登录过粤康码")))
            (field("name", "姓名", "", "text", problems.field("name"), None))
            button type="submit" id="appoint" { "任命" }
        }
    };
    let status = if refused {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        actix_web::http::StatusCode::OK
    };
    ctx.page_with(status, layout::page(ctx, "区域管理", content))
}

/// `GET /region`.
pub async fn page(
    req: HttpRequest,
    state: web::Data<PagesState>,
    query: web::Query<layout::DayQuery>,
) -> HttpResponse {
    let (ctx, person) = match signed_in(&req, &state).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    render(
        &ctx,
        &state,
        person,
        query.date.as_deref(),
        &Problems::default(),
        None,
    )
    .await
}

/// `POST /region/grids/{grid_id}/confirmation`.
pub async fn confirm(
    req: HttpRequest,
    state: web::Data<PagesState>,
    grid_id: web::Path<String>,
    input: web::Form<crate::sign_in::CsrfOnly>,
) -> HttpResponse {
    let (ctx, person) = match signed_in_post(&req, &state, &input.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let command = CommandContext::new(services::auth::person_actor(person));
    match grids::confirm(&state.services, &command, person, &grid_id).await {
        Ok(outcome) => {
            let _ = state.runner.wait_for(outcome.position(), state.wait).await;
            render(
                &ctx,
                &state,
                person,
                None,
                &Problems::default(),
                Some("网格已确认"),
            )
            .await
        }
        Err(e) => {
            let problems = Problems {
                general: Some(messages::general(&e)),
                ..Problems::default()
            };
            render(&ctx, &state, person, None, &problems, None).await
        }
    }
}

/// The appointment form as posted.
#[derive(Debug, Deserialize)]
pub struct AppointForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    number: String,
    #[serde(default)]
    name: String,
}

/// `POST /region/admins`: appoints the admin of a region directly below.
pub async fn appoint(
    req: HttpRequest,
    state: web::Data<PagesState>,
    input: web::Form<AppointForm>,
) -> HttpResponse {
    let (ctx, person) = match signed_in_post(&req, &state, &input.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let command = CommandContext::new(services::auth::person_actor(person));
    match services::regions::appoint_admin(
        &state.services,
        &command,
        person,
        input.region.trim(),
        "resident_id",
        input.number.trim(),
        &input.name,
    )
    .await
    {
        Ok(outcome) => {
            let _ = state.runner.wait_for(outcome.position(), state.wait).await;
            render(
                &ctx,
                &state,
                person,
                None,
                &Problems::default(),
                Some("已任命"),
            )
            .await
        }
        Err(e) => render(&ctx, &state, person, None, &Problems::of(&e), None).await,
    }
}
