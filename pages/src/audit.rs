//! The auditor's and analyst's page (a person granted the role, or nobody): verify the
//! hash chain, and the projections with their lag and a rebuild.

use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;
use serde::Deserialize;
use services::auth::Principal;

use crate::context::Ctx;
use crate::gate::{signed_in, signed_in_post};
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
        @if auditor {
            form method="get" action="/audit/events" class="card" {
                h2 { "浏览事件日志" }
                (crate::layout::field("stream", "事件流（可不填）", "", "text", None, Some("例如 person-… 或 venue-…")))
                (crate::layout::field("type", "事件类型（可不填）", "", "text", None, None))
                button type="submit" class="secondary" id="browse" { "浏览" }
            }
            form method="get" action="/audit/stream" class="card" {
                h2 { "某一时刻的事件流" }
                (crate::layout::field("stream", "事件流", "", "text", None, None))
                (crate::layout::field("as_of", "时刻（RFC 3339，可不填）", "", "text", None, Some("例如 2026-03-02T09:00:00+08:00")))
                button type="submit" class="secondary" { "查看" }
            }
        }
        section class="card" {
            h2 { "投影" }
            table {
                thead { tr { th { "名称" } th { "位置" } th { "落后" } th { "状态" } th { "重建进度" } @if analyst { th {} } } }
                tbody {
                    @for p in &projections {
                        tr {
                            td { (p.name) } td { (p.position) } td { (p.lag) } td { (p.status) }
                            td { @if let Some(at) = p.rebuild_position { (at) " / " (p.position + p.lag) } }
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

/// `?stream=&type=&after=`.
#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    stream: Option<String>,
    #[serde(rename = "type")]
    event_type: Option<String>,
    after: Option<String>,
}

fn data_cell(data: &serde_json::Value) -> String {
    let text = data.to_string();
    match text.char_indices().nth(160) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// `GET /audit/events`: the log paged in position order, optionally one stream and one type
/// (personal fields stay sealed, as in the API).
pub async fn events(
    req: HttpRequest,
    state: web::Data<PagesState>,
    query: web::Query<EventsQuery>,
) -> HttpResponse {
    let (ctx, person) = match signed_in(&req, &state).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    if !roles(&state, person).await.0 {
        return render(&ctx, &state, person, None).await;
    }
    let stream = query
        .stream
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let event_type = query
        .event_type
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let page = services::page::PageRequest::parse(
        Some(50),
        query.after.as_deref().filter(|a| !a.is_empty()),
    );
    let listed = match page {
        Ok(page) => {
            let reader = services::auth::Principal::Person { person_id: person };
            services::audit::events_read_by(&state.services, &reader, page, stream, event_type)
                .await
        }
        Err(e) => Err(e),
    };
    let filters = format!(
        "stream={}&type={}",
        crate::context::url_escape(stream.unwrap_or("")),
        crate::context::url_escape(event_type.unwrap_or(""))
    );
    let content = match listed {
        Ok(page) => html! {
            table id="events" {
                thead { tr { th { "位置" } th { "事件流" } th { "类型" } th { "时间" } th { "操作者" } th { "内容" } } }
                tbody {
                    @for e in &page.items {
                        tr {
                            td { (e.position) }
                            td { a href=(format!("/audit/stream?stream={}", e.stream)) { (e.stream) } }
                            td { (e.event_type) }
                            td { (domain::week::cst_rfc3339(e.recorded_at)) }
                            td { (e.actor.clone().unwrap_or_default()) }
                            td { code { (data_cell(&e.data)) } }
                        }
                    }
                }
            }
            @if let Some(next) = &page.next {
                p { a class="button secondary" href=(format!("/audit/events?{filters}&after={next}")) { "下一页" } }
            }
        },
        Err(e) => crate::layout::notice("bad", &messages::general(&e)),
    };
    ctx.page(layout::page(&ctx, "事件日志", content))
}

/// `?stream=&as_of=`.
#[derive(Debug, Deserialize)]
pub struct StreamQuery {
    #[serde(default)]
    stream: String,
    as_of: Option<String>,
}

/// `GET /audit/stream`: one stream's events recorded by an instant and its state then; reading
/// a person's own stream is recorded in their access log.
pub async fn stream(
    req: HttpRequest,
    state: web::Data<PagesState>,
    query: web::Query<StreamQuery>,
) -> HttpResponse {
    let (ctx, person) = match signed_in(&req, &state).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    if !roles(&state, person).await.0 {
        return render(&ctx, &state, person, None).await;
    }
    let principal = Principal::Person { person_id: person };
    let as_of = query
        .as_of
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty());
    let content = match services::audit::read_stream(
        &state.services,
        &principal,
        query.stream.trim(),
        as_of,
    )
    .await
    {
        Ok(found) => html! {
            p { "事件流 " strong { (found.stream.to_string()) } "，截至 " (domain::week::cst_rfc3339(found.as_of)) "，版本 " (found.version) }
            h2 { "当时的状态" }
            pre id="state" { (serde_json::to_string_pretty(&found.state).unwrap_or_default()) }
            h2 { "事件" }
            ol {
                @for e in &found.events {
                    li { (e.event_type) " · " (domain::week::cst_rfc3339(e.recorded_at)) br; code { (data_cell(&e.data)) } }
                }
            }
        },
        Err(e) => crate::layout::notice("bad", &messages::general(&e)),
    };
    ctx.page(layout::page(&ctx, "事件流", content))
}
