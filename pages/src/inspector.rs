//! The inspector's pages: the venues they inspect and binding to one with its code; scanning a
//! citizen's code (the camera where the browser has `BarcodeDetector`, else pasting or typing
//! what the code says), the masked answer, and 正常 / 发热 to record the check.

use actix_web::{web, HttpRequest, HttpResponse};
use commands::CommandContext;
use maud::{html, Markup};
use serde::Deserialize;
use services::venues::{self, ScanAnswer, ScanPlace};

use crate::assets;
use crate::context::{redirect, Ctx};
use crate::gate::{signed_in, signed_in_post};
use crate::layout::{self, csrf_field, field};
use crate::messages::{self, Problems};
use crate::PagesState;

fn bind_form(ctx: &Ctx, code: &str, problems: &Problems) -> Markup {
    html! {
        form method="post" action="/inspect/bind" class="card" novalidate {
            h2 { "绑定场所" }
            (csrf_field(ctx))
            (field("code", "场所绑定码", code, "text", problems.field("code"), Some("8 位数字，由场所管理员提供")))
            button type="submit" id="bind" { "绑定" }
        }
    }
}

/// `GET /inspect`: the venues the person inspects, and binding to another.
pub async fn venues(req: HttpRequest, state: web::Data<PagesState>) -> HttpResponse {
    let (ctx, person) = match signed_in(&req, &state).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    list(&ctx, &state, person, "", &Problems::default()).await
}

async fn list(
    ctx: &Ctx,
    state: &PagesState,
    person: domain::identity::PersonId,
    code: &str,
    problems: &Problems,
) -> HttpResponse {
    let mine = projections::venues::of_inspector(&state.services.db, &person.to_string())
        .await
        .unwrap_or_default();
    let status = if problems.fields.is_empty() && problems.general.is_none() {
        actix_web::http::StatusCode::OK
    } else {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    ctx.page_with(
        status,
        layout::page(
            ctx,
            "检测员",
            html! {
                @if let Some(general) = &problems.general { (layout::notice("bad", general)) }
                section class="card" {
                    h2 { "我检测的场所" }
                    @if mine.is_empty() {
                        p { "还没有绑定场所。" }
                    } @else {
                        ul {
                            @for v in &mine {
                                li { a href=(format!("/inspect/{}", v.venue_id)) { (v.name) } }
                            }
                        }
                    }
                }
                (bind_form(ctx, code, problems))
            },
        ),
    )
}

/// The binding form as posted.
#[derive(Debug, Deserialize)]
pub struct BindForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

/// `POST /inspect/bind`.
pub async fn bind(
    req: HttpRequest,
    state: web::Data<PagesState>,
    input: web::Form<BindForm>,
) -> HttpResponse {
    let (ctx, person) = match signed_in_post(&req, &state, &input.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let command = CommandContext::new(services::auth::person_actor(person));
    let client = crate::context::client(&req);
    let bound = services::limits::binding(
        &state.services,
        person,
        &client,
        venues::bind(&state.services, &command, person, input.code.trim()),
    )
    .await;
    match bound {
        Ok(outcome) => {
            let _ = state.runner.wait_for(outcome.position(), state.wait).await;
            redirect(&format!("/inspect/{}", outcome.response().venue_id))
        }
        Err(error) => {
            let mut problems = Problems::of(&error);
            if let Some(general) = problems.general.take() {
                problems.fields.insert("code".into(), general);
            }
            list(&ctx, &state, person, &input.code, &problems).await
        }
    }
}

fn scan_form(ctx: &Ctx, venue_id: &str, token: &str, problems: &Problems) -> Markup {
    html! {
        form method="post" action=(format!("/inspect/{venue_id}/scan")) class="card" novalidate {
            (csrf_field(ctx))
            (layout::code_field("粤康码", token, problems.field("token"), "查验"))
        }
        script src=(assets::url("scan.js")) defer {}
    }
}

/// `GET /inspect/{venue_id}`: the scan form.
pub async fn page(
    req: HttpRequest,
    state: web::Data<PagesState>,
    venue_id: web::Path<String>,
) -> HttpResponse {
    let ctx = Ctx::of(&req, &state).await;
    if ctx.person.is_none() {
        return crate::gate::to_sign_in(&req);
    }
    ctx.page(layout::page(
        &ctx,
        "查验粤康码",
        scan_form(&ctx, &venue_id, "", &Problems::default()),
    ))
}

/// The scan form as posted.
#[derive(Debug, Deserialize)]
pub struct ScanForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
}

fn answer(ctx: &Ctx, venue_id: &str, a: &ScanAnswer) -> Markup {
    let (class, words) = layout::colour(a.colour);
    let check = |band: &str, label: &str, class: &str| {
        html! {
            form method="post" action=(format!("/inspect/{venue_id}/check")) class="inline" {
                (csrf_field(ctx))
                input type="hidden" name="scan_id" value=(a.scan_id);
                input type="hidden" name="band" value=(band);
                button type="submit" class=(class) id=(format!("band-{band}")) { (label) }
            }
        }
    };
    html! {
        section class={ "card code " (class) } {
            p id="colour" class={ "colour " (class) } { (words) }
            p { "姓名：" strong id="name" { (a.name_masked) } }
            @if !a.phone_masked.is_empty() { p { "手机：" (a.phone_masked) } }
            @if !a.reason_labels.is_empty() {
                p { "红码原因：" @for l in &a.reason_labels { span class="label" { (l) " " } } }
            }
        }
        @if a.fresh {
            p { a href=(format!("/inspect/{venue_id}/declaration?scan={}", a.scan_id)) id="declaration" { "查看最近一次健康申报" } }
            section class="card" {
                h2 { "体温检测结果" }
                p class="actions" {
                    (check("normal", "正常", "normal"))
                    (check("fever", "发热", "fever"))
                }
            }
        } @else {
            p class="notice" id="not-fresh" { "这是旧码（如截图或照片），只显示颜色和打码的身份。记录体温或查看申报，请对方刷新粤康码后重新扫码。" }
        }
    }
}

/// `POST /inspect/{venue_id}/scan`: the masked answer, and the check buttons.
pub async fn scan(
    req: HttpRequest,
    state: web::Data<PagesState>,
    venue_id: web::Path<String>,
    input: web::Form<ScanForm>,
) -> HttpResponse {
    let (ctx, person) = match signed_in_post(&req, &state, &input.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let problems = |error: &services::ServiceError| {
        let mut problems = Problems::of(error);
        if let Some(general) = problems.general.take() {
            problems.fields.insert("token".into(), general);
        }
        problems
    };
    let Ok(venue) = uuid::Uuid::parse_str(&venue_id) else {
        return redirect("/inspect");
    };
    let place = ScanPlace {
        venue_id: Some(venue),
        grid_id: None,
        medical: false,
    };
    let command = CommandContext::new(services::auth::person_actor(person));
    let scanned = match state.services.limiter.take(
        services::limits::Action::Scan,
        &person.to_string(),
        state.services.now(),
    ) {
        Ok(()) => venues::scan(&state.services, &command, person, input.token.trim(), place).await,
        Err(e) => Err(e),
    };
    match scanned {
        Ok(outcome) => ctx.page(layout::page(
            &ctx,
            "查验结果",
            answer(&ctx, &venue_id, outcome.response()),
        )),
        Err(error) => ctx.page_with(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            layout::page(
                &ctx,
                "查验粤康码",
                scan_form(&ctx, &venue_id, &input.token, &problems(&error)),
            ),
        ),
    }
}

/// The check form as posted.
#[derive(Debug, Deserialize)]
pub struct CheckForm {
    #[serde(default)]
    csrf: String,
    scan_id: uuid::Uuid,
    #[serde(default)]
    band: String,
}

/// `POST /inspect/{venue_id}/check`: records 正常 or 发热 for the scan.
pub async fn check(
    req: HttpRequest,
    state: web::Data<PagesState>,
    venue_id: web::Path<String>,
    input: web::Form<CheckForm>,
) -> HttpResponse {
    let (ctx, person) = match signed_in_post(&req, &state, &input.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let command = CommandContext::new(services::auth::person_actor(person));
    let recorded = match venues::permit_check(&state.services, &venue_id, person).await {
        Ok(permit) => {
            venues::record_check(
                &state.services,
                &command,
                permit,
                input.scan_id,
                &input.band,
            )
            .await
        }
        Err(e) => Err(e),
    };
    let (kind, text) = match &recorded {
        Ok(_) if input.band == "fever" => ("bad", "已记录：发热".to_owned()),
        Ok(_) => ("good", "已记录：正常".to_owned()),
        Err(error) => ("bad", messages::general(error)),
    };
    let status = if recorded.is_ok() {
        actix_web::http::StatusCode::OK
    } else {
        actix_web::http::StatusCode::CONFLICT
    };
    ctx.page_with(
        status,
        layout::page(
            &ctx,
            "体温检测",
            html! {
                div id="recorded" { (layout::notice(kind, &text)) }
                p { a class="button" href=(format!("/inspect/{venue_id}")) { "查验下一位" } }
            },
        ),
    )
}

/// `?scan=`.
#[derive(Debug, Deserialize)]
pub struct ScanQuery {
    #[serde(default)]
    scan: String,
}

/// `GET /inspect/{venue_id}/declaration?scan=`: the scanned person's latest declaration, health
/// facts only, to the inspector who scanned within 30 minutes (recorded in the person's access
/// log).
pub async fn declaration(
    req: HttpRequest,
    state: web::Data<PagesState>,
    venue_id: web::Path<String>,
    query: web::Query<ScanQuery>,
) -> HttpResponse {
    let (ctx, person) = match signed_in(&req, &state).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let seen = match services::scan_declarations::permit(&state.services, person, &query.scan).await
    {
        Ok(view) => services::scan_declarations::declaration(&state.services, view).await,
        Err(e) => Err(e),
    };
    let content = match seen {
        Ok(d) => {
            html! {
                section class="card" id="latest" {
                    p { "申报时间：" (d["filed_at"].as_str().unwrap_or("").replace('T', " ").get(..16).unwrap_or("")) }
                    p { "体温：" @if d["band"] == "fever" { "发热" } @else { "正常" }
                        @if let Some(t) = d["temperature_c"].as_f64() { " " (format!("{t:.1}")) "℃" } }
                    p { "症状：" (crate::declare::symptoms_text(&d["symptoms"])) }
                    p { "14 天接触史：" @if d["contact_14d"].as_bool() == Some(true) { "有" } @else { "无" } }
                }
            }
        }
        Err(e) => layout::notice("bad", &messages::general(&e)),
    };
    ctx.page(layout::page(
        &ctx,
        "最近一次健康申报",
        html! {
            (content)
            p { a class="button secondary" href=(format!("/inspect/{venue_id}")) { "返回查验" } }
        },
    ))
}
