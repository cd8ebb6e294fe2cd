//! The person's records, newest first (我的记录): health declarations, temperature checks and
//! quick check-ins, entry registrations, notices (appeal decisions, release notices, with the
//! notice's printable page), and who read their data.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use domain::identity::RedReason;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;
use services::citizens::HistoryKind;

use crate::declare::symptoms_text;
use crate::gate::signed_in;
use crate::layout;
use crate::messages;
use crate::PagesState;

const KINDS: [(&str, &str, HistoryKind); 5] = [
    ("declarations", "健康申报", HistoryKind::Declarations),
    ("checks", "体温检测", HistoryKind::Checks),
    ("entries", "入粤登记", HistoryKind::Entries),
    ("notices", "告知书与申诉", HistoryKind::Notices),
    ("access", "谁查看了我的信息", HistoryKind::AccessLog),
];

/// `?kind=&after=`.
#[derive(Debug, Deserialize)]
pub struct HistoryQuery {
    kind: Option<String>,
    after: Option<String>,
    filed: Option<String>,
}

fn text<'a>(item: &'a Value, key: &str) -> &'a str {
    item[key].as_str().unwrap_or("")
}

fn when(item: &Value, key: &str) -> String {
    text(item, key).replace('T', " ").chars().take(16).collect()
}

fn band(raw: &str) -> &'static str {
    if raw == "fever" {
        "发热"
    } else {
        "正常"
    }
}

fn reason_label(raw: &Value) -> &'static str {
    raw.as_str()
        .and_then(RedReason::parse)
        .map_or("", RedReason::label)
}

fn item(kind: &str, item: &Value) -> Markup {
    match kind {
        "declarations" => {
            html! {
                li class="card" {
                    strong { (when(item, "filed_at")) } " · 体温" (band(text(item, "band")))
                    @if let Some(t) = item["temperature_c"].as_f64() { " " (format!("{t:.1}")) "℃" }
                    br;
                    "症状：" (symptoms_text(&item["symptoms"]))
                    " · 14 天接触史：" @if item["contact_14d"].as_bool() == Some(true) { "有" } @else { "无" }
                    " · 所在地：" (text(item, "region"))
                }
            }
        }
        "checks" => html! {
            li class="card" {
                strong { (when(item, "at")) } " · "
                @if text(item, "kind") == "quick_check_in" { "快速打卡" } @else { "体温检测" }
                " · " (band(text(item, "band")))
            }
        },
        "entries" => html! {
            li class="card" {
                strong { (when(item, "registered_at")) } " · 从 " (text(item, "origin"))
                " 经 " (text(item, "transport")) " " (text(item, "trip_number"))
                " 于 " (text(item, "arrival_date")) " 到达 " (text(item, "destination"))
            }
        },
        "notices" => match text(item, "kind") {
            "release_notice" => html! {
                li class="card" {
                    strong { "解除医学观察电子告知书 " (text(item, "number")) } br;
                    "观察期 " (text(item, "observation_from")) " 至 " (text(item, "observation_to"))
                    " · 解除：" @for r in item["reasons"].as_array().into_iter().flatten() { (reason_label(r)) " " }
                    br; (text(item, "unit")) " · " (when(item, "issued_at")) " "
                    a href=(format!("/notices/{}", text(item, "notice_id"))) { "查看并打印" }
                }
            },
            "notice_withdrawal" => html! {
                li class="card" {
                    strong { "告知书 " (text(item, "number")) " 已撤销" } br;
                    (text(item, "detail")) " · " (when(item, "issued_at"))
                }
            },
            _ => html! {
                li class="card" {
                    strong { "申诉结果：" @if item["granted"].as_bool() == Some(true) { "通过" } @else { "未通过" } }
                    " · " (reason_label(&item["reason"])) br;
                    (text(item, "detail")) " · " (when(item, "issued_at"))
                }
            },
        },
        _ => {
            let who = match item["accessor"]["kind"].as_str().unwrap_or("") {
                "venue" => "场所检测员",
                "grid" => "网格员",
                "medical" => "医护人员",
                "guardian" => "监护人",
                "auditor" => "审计员",
                "service" => "系统账号",
                _ => "其他",
            };
            let what = match text(item, "data") {
                "code" => "粤康码",
                "declarations" => "健康申报",
                "profile" => "姓名和电话",
                "history" => "历史记录",
                _ => "信息",
            };
            html! { li class="card" { strong { (when(item, "at")) } " · " (who) " 查看了 " (what) } }
        }
    }
}

/// `GET /history?kind=`.
pub async fn page(
    req: HttpRequest,
    state: web::Data<PagesState>,
    query: web::Query<HistoryQuery>,
) -> HttpResponse {
    let (ctx, person) = match signed_in(&req, &state).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let chosen = query.kind.as_deref().unwrap_or("declarations");
    let (key, title, kind) = KINDS
        .iter()
        .find(|(k, _, _)| *k == chosen)
        .copied()
        .unwrap_or(KINDS[0]);
    let listed = match services::page::PageRequest::parse(Some(20), query.after.as_deref()) {
        Ok(page) => services::citizens::history(&state.services, person, kind, page).await,
        Err(e) => Err(e),
    };
    let content = html! {
        nav class="card actions" aria-label="记录类别" {
            @for (k, t, _) in KINDS {
                a href=(format!("/history?kind={k}")) aria-current=[(k == key).then_some("page")] { (t) }
            }
        }
        @if query.filed.is_some() { (layout::notice("good", "申报成功")) }
        @match listed {
            Ok(page) => {
                h2 { (title) }
                @if page.items.is_empty() { p { "暂无记录。" } }
                ul class="history" id="items" {
                    @for i in &page.items { (item(key, i)) }
                }
                @if let Some(next) = page.next {
                    p { a class="button secondary" href=(format!("/history?kind={key}&after={next}")) { "更早的记录" } }
                }
            }
            Err(error) => { (layout::notice("bad", &messages::general(&error))) }
        }
    };
    ctx.page(layout::page(&ctx, "我的记录", content))
}

/// `GET /notices/{notice_id}`: a release notice to print, to its person or its issuer.
pub async fn notice(
    req: HttpRequest,
    state: web::Data<PagesState>,
    notice_id: web::Path<String>,
) -> HttpResponse {
    let (ctx, person) = match signed_in(&req, &state).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    match services::medical::view(&state.services, person, &notice_id).await {
        Ok(view) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ))
            .insert_header((header::CACHE_CONTROL, "private, no-store"))
            .body(crate::printable::notice(&view)),
        Err(error) => ctx.page_with(
            actix_web::http::StatusCode::NOT_FOUND,
            layout::page(
                &ctx,
                "告知书",
                layout::notice("bad", &messages::general(&error)),
            ),
        ),
    }
}
