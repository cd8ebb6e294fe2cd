//! Medical staff (医护人员): scan a person's code (the form pre-filled from what the platform
//! knows: name, phone, the reasons a notice may release), issue the release-from-medical-
//! observation notice, print it, and list what they issued (已出具的电子告知书).

use actix_web::{web, HttpRequest, HttpResponse};
use commands::CommandContext;
use domain::identity::RedReason;
use maud::{html, Markup};
use serde::Deserialize;
use services::medical::{self, NoticeInput};

use crate::context::{forgery_checked, Ctx};
use crate::gate::forged;
use crate::gate::{signed_in, signed_in_post};
use crate::layout::{self, csrf_field, field};
use crate::messages::{self, Problems};
use crate::PagesState;

fn scan_form(ctx: &Ctx, token: &str, problems: &Problems) -> Markup {
    html! {
        @if let Some(general) = &problems.general { (layout::notice("bad", general)) }
        form method="post" action="/medical/scan" class="card" novalidate {
            (csrf_field(ctx))
            (layout::code_field("医学观察对象的粤康码", token, problems.field("token"), "扫码"))
        }
        p { a href="/medical/issued" { "已出具的电子告知书" } }
        script src=(crate::assets::url("scan.js")) defer {}
    }
}

/// `GET /medical`: the scan form (granted staff only).
pub async fn page(req: HttpRequest, state: web::Data<PagesState>) -> HttpResponse {
    let (ctx, person) = match signed_in(&req, &state).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let problems = match medical::permit_staff(&state.services, person).await {
        Ok(_) => Problems::default(),
        Err(e) => Problems::of(&e),
    };
    ctx.page(layout::page(
        &ctx,
        "出具解除医学观察电子告知书",
        scan_form(&ctx, "", &problems),
    ))
}

/// A form with a code token.
#[derive(Debug, Deserialize)]
pub struct ScanForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
}

/// `POST /medical/scan`: who the code names, and the notice form pre-filled.
pub async fn scan(
    req: HttpRequest,
    state: web::Data<PagesState>,
    input: web::Form<ScanForm>,
) -> HttpResponse {
    let (ctx, person) = match signed_in_post(&req, &state, &input.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let command = CommandContext::new(services::auth::person_actor(person));
    let scanned = match medical::permit_staff(&state.services, person).await {
        Ok(permit) => match state.services.limiter.take(
            services::limits::Action::Scan,
            &person.to_string(),
            state.services.now(),
        ) {
            Ok(()) => medical::scan(&state.services, &command, permit, input.token.trim()).await,
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    let answer = match scanned {
        Ok(outcome) => outcome.into_response(),
        Err(error) => {
            let mut problems = Problems::of(&error);
            if problems.fields.is_empty() {
                if let Some(general) = problems.general.take() {
                    problems.fields.insert("token".into(), general);
                }
            }
            return ctx.page_with(
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
                layout::page(
                    &ctx,
                    "出具解除医学观察电子告知书",
                    scan_form(&ctx, &input.token, &problems),
                ),
            );
        }
    };
    let today = domain::week::today(state.services.now()).to_string();
    let reasons = answer.reasons.clone().unwrap_or_default();
    let content = html! {
        section class="card" {
            h2 { "医学观察对象" }
            p { "姓名：" strong id="name" { (answer.name.clone().unwrap_or_default()) } }
            p { "手机：" (answer.phone.clone().unwrap_or_default()) }
            p class={ "colour " @if reasons.is_empty() { "green" } @else { "red" } } id="colour" {
                @if reasons.is_empty() { "绿码" } @else { "红码" }
            }
        }
        form method="post" action="/medical/notice" class="card" novalidate {
            (csrf_field(&ctx))
            input type="hidden" name="scan_id" value=(answer.scan_id);
            fieldset class="field" {
                legend { "解除的原因" }
                @for r in &reasons {
                    label {
                        input type="checkbox" name="reasons" value=(r.reason.as_str())
                            checked[r.reason.released_by_notice()] disabled[!r.reason.released_by_notice()];
                        " " (r.reason.label())
                        @if !r.reason.released_by_notice() { "（告知书不能解除）" }
                    }
                }
                @if reasons.is_empty() { p { "此人没有红码原因，无需出具告知书。" } }
            }
            (field("observation_from", "医学观察开始日期", "", "date", None, None))
            (field("observation_to", "医学观察结束日期", &today, "date", None, None))
            button type="submit" id="issue" disabled[reasons.is_empty()] { "提交，生成告知书" }
        }
    };
    ctx.page(layout::page(&ctx, "出具解除医学观察电子告知书", content))
}

/// `POST /medical/notice`: issues the notice (repeated `reasons`, so read as pairs).
pub async fn issue(
    req: HttpRequest,
    state: web::Data<PagesState>,
    body: web::Bytes,
) -> HttpResponse {
    let (ctx, person) = match signed_in(&req, &state).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let value = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    if !forgery_checked(&req, &value("csrf")) {
        return forged(&ctx);
    }
    let input = NoticeInput {
        scan_id: value("scan_id"),
        observation_from: value("observation_from"),
        observation_to: value("observation_to"),
        reasons: pairs
            .iter()
            .filter(|(k, _)| k == "reasons")
            .map(|(_, v)| v.clone())
            .collect(),
    };
    let command = CommandContext::new(services::auth::person_actor(person));
    let issued = match medical::permit_staff(&state.services, person).await {
        Ok(permit) => medical::issue(&state.services, &command, permit, &input).await,
        Err(e) => Err(e),
    };
    let content = match issued {
        Ok(outcome) => {
            let _ = state.runner.wait_for(outcome.position(), state.wait).await;
            let issued = outcome.into_response();
            let released: Vec<&str> = issued
                .released
                .iter()
                .map(|r: &RedReason| r.label())
                .collect();
            html! {
                (layout::notice("good", "告知书已生成"))
                section class="card" {
                    p { "编号：" strong id="number" { (issued.number) } }
                    p { "已解除：" (released.join("、")) }
                    p class="actions" {
                        a class="button" href=(format!("/notices/{}", issued.notice_id)) { "查看并打印" }
                        a class="button secondary" href="/medical" { "扫描下一位" }
                    }
                }
            }
        }
        Err(error) => {
            let problems = Problems::of(&error);
            html! {
                (layout::notice("bad", &problems.general.clone().unwrap_or_else(|| {
                    problems.fields.values().cloned().collect::<Vec<_>>().join("；")
                })))
                p { a class="button secondary" href="/medical" { "重新扫码" } }
            }
        }
    };
    ctx.page(layout::page(&ctx, "解除医学观察电子告知书", content))
}

/// `GET /medical/issued`: the notices the staff member issued, newest first.
pub async fn issued(req: HttpRequest, state: web::Data<PagesState>) -> HttpResponse {
    let (ctx, person) = match signed_in(&req, &state).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let page = services::page::PageRequest {
        limit: 100,
        after: None,
    };
    let content = match medical::issued_by(&state.services, person, page).await {
        Ok(page) => html! {
            @if page.items.is_empty() { p { "还没有出具告知书。" } }
            ul class="history" {
                @for n in &page.items {
                    li class="card" {
                        strong { (n.number) }
                        " · 观察期 " (n.observation_from) " 至 " (n.observation_to)
                        " · " @for r in &n.reasons { (r.label()) " " }
                        @if n.withdrawn_at.is_some() { strong { "（已撤销）" } }
                        " " a href=(format!("/notices/{}", n.notice_id)) { "查看" }
                    }
                }
            }
        },
        Err(error) => layout::notice("bad", &messages::general(&error)),
    };
    ctx.page(layout::page(&ctx, "已出具的电子告知书", content))
}
