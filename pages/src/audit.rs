//! The auditor's and analyst's page (a person granted the role, or nobody): verify the
//! hash chain, and the projections with their lag and a rebuild.

use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;
use serde::Deserialize;
use services::auth::Principal;

use crate::context::{signed_in, signed_in_post, Ctx};
use crate::layout::{self, csrf_field};
use crate::messages;
use crate::PagesState;

async fn roles(state: &PagesState, person: domain::identity::PersonId) -> (bool, bool) {
    let principal = Principal::Person { person_id: person };
    let auditor = principal
        .clone()
        .require(&state.services, &["auditor"])
        .await
        .is_ok();
    let analyst = principal
        .require(&state.services, &["analyst"])
        .await
        .is_ok();
    (auditor, analyst)
}

async fn render(
    ctx: &Ctx,
    state: &PagesState,
    person: domain::identity::PersonId,
    message: Option<(&str, String)>,
) -> HttpResponse {
    let (auditor, analyst) = roles(state, person).await;
    if !auditor && !analyst {
        return ctx.page_with(
            actix_web::http::StatusCode::FORBIDDEN,
            layout::page(
                ctx,
                "审计与分析",
                layout::notice("bad", "您没有审计员或分析员角色"),
            ),
        );
    }
    let projections = services::analysis::projections(&state.runner)
        .await
        .unwrap_or_default();
    let content = html! {
        @if let Some((kind, text)) = &message { div id="result" { (layout::notice(kind, text)) } }
        @if auditor {
            form method="post" action="/audit/verify" class="card" {
                (csrf_field(ctx))
                h2 { "校验事件日志的哈希链" }
                button type="submit" id="verify" { "开始校验" }
            }
        }
        section class="card" {
            h2 { "投影" }
            table {
                thead { tr { th { "名称" } th { "位置" } th { "落后" } th { "状态" } @if analyst { th {} } } }
                tbody {
                    @for p in &projections {
                        tr {
                            td { (p.name) } td { (p.position) } td { (p.lag) } td { (p.status) }
                            @if analyst {
                                td {
                                    form method="post" action="/audit/rebuild" class="inline" {
                                        (csrf_field(ctx))
                                        input type="hidden" name="name" value=(p.name);
                                        button type="submit" class="secondary" { "重建" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    ctx.page(layout::page(ctx, "审计与分析", content))
}

/// `GET /audit`.
pub async fn page(req: HttpRequest, state: web::Data<PagesState>) -> HttpResponse {
    let (ctx, person) = match signed_in(&req, &state).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    render(&ctx, &state, person, None).await
}

/// A form naming a projection (or nothing).
#[derive(Debug, Deserialize)]
pub struct AuditForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

/// `POST /audit/verify`: walks the chain (auditors).
pub async fn verify(
    req: HttpRequest,
    state: web::Data<PagesState>,
    input: web::Form<AuditForm>,
) -> HttpResponse {
    let (ctx, person) = match signed_in_post(&req, &state, &input.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    if !roles(&state, person).await.0 {
        return render(&ctx, &state, person, None).await;
    }
    let anchor = services::analysis::applied_position(&state.runner)
        .await
        .unwrap_or(0);
    let message = match services::audit::verify(state.services.bus.store(), anchor).await {
        Ok(report) if report.ok => (
            "good",
            format!("哈希链完整：共校验 {} 个事件", report.checked),
        ),
        Ok(report) => (
            "bad",
            format!(
                "哈希链被破坏：第一个有问题的位置是 {}",
                report.first_bad_position.unwrap_or(0)
            ),
        ),
        Err(error) => ("bad", messages::general(&error)),
    };
    render(&ctx, &state, person, Some(message)).await
}

/// `POST /audit/rebuild`: starts a projection's rebuild (analysts); progress shows in the table.
pub async fn rebuild(
    req: HttpRequest,
    state: web::Data<PagesState>,
    input: web::Form<AuditForm>,
) -> HttpResponse {
    let (ctx, person) = match signed_in_post(&req, &state, &input.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    if !roles(&state, person).await.1 {
        return render(&ctx, &state, person, None).await;
    }
    let message = match services::analysis::rebuild(&state.runner, &input.name) {
        Ok(()) => ("good", format!("已开始重建 {}", input.name)),
        Err(error) => ("bad", messages::general(&error)),
    };
    render(&ctx, &state, person, Some(message)).await
}
