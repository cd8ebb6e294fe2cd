//! The citizen's 粤康码: the QR to show, 绿码 or 红码 in words as well as colour, each red
//! reason with its label and how it is released, and a refresh.

use actix_web::{web, HttpRequest, HttpResponse};
use commands::CommandContext;
use crypto::qr::{self, QrColour};
use domain::health_code::Colour;
use domain::identity::RedReason;
use maud::{html, PreEscaped};
use serde::Deserialize;

use crate::context::redirect;
use crate::gate::{signed_in, signed_in_post};
use crate::layout;
use crate::messages;
use crate::PagesState;

/// How a reason is released, in the guide's terms.
fn guidance(reason: RedReason) -> &'static str {
    match reason {
        RedReason::Confirmed => "请配合定点医院治疗。卫生健康部门报送康复解除信息后，粤康码转为绿码。",
        RedReason::Suspected => "请原地等候并听从当地卫生健康部门安排。排除疑似并报送后，粤康码转为绿码。",
        RedReason::CloseContact => "请完成指定的医学观察。期满后由医护人员出具解除医学观察电子告知书，粤康码转为绿码。",
        RedReason::HighRiskArrival => "请向所在社区报告，完成健康监测和检测。医护人员出具解除告知书或报送解除信息后，粤康码转为绿码。",
        RedReason::CentralisedQuarantine => "请完成集中隔离。解除隔离时由医护人员出具电子告知书，粤康码转为绿码。",
        RedReason::HomeQuarantine => "请按要求居家隔离。期满后由医护人员出具电子告知书，粤康码转为绿码。",
    }
}

/// `?member=` (a family member's code) and what the last action said.
#[derive(Debug, Deserialize)]
pub struct CodeQuery {
    member: Option<String>,
    appealed: Option<String>,
    reset: Option<String>,
}

/// `GET /`: the signed-in person's code (or a family member's), or the sign-in page.
pub async fn code_page(
    req: HttpRequest,
    state: web::Data<PagesState>,
    query: web::Query<CodeQuery>,
) -> HttpResponse {
    let (ctx, person) = match signed_in(&req, &state).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let family = crate::family::members(&state, person).await;
    let member = query
        .member
        .as_deref()
        .and_then(domain::identity::PersonId::parse);
    let code = match member {
        Some(member) => services::citizens::member_code(&state.services, person, member).await,
        None => services::citizens::health_code(&state.services, person).await,
    };
    let code = match code {
        Ok(code) => code,
        Err(error) => {
            return ctx.page(layout::page(
                &ctx,
                "我的粤康码",
                layout::notice("bad", &messages::general(&error)),
            ))
        }
    };
    let (class, words, qr_colour) = match code.colour {
        Colour::Green => ("green", "绿码", QrColour::Green),
        Colour::Red => ("red", "红码", QrColour::Red),
    };
    let svg = qr::code_svg(&code.token, qr_colour).unwrap_or_default();
    let own = member.is_none();
    let content = html! {
        @if !family.is_empty() {
            nav class="card actions" aria-label="家庭成员" {
                a href="/" aria-current=[own.then_some("page")] { "本人" }
                @for (id, name, relation) in &family {
                    a href=(format!("/?member={id}")) aria-current=[(query.member.as_deref() == Some(id.as_str())).then_some("page")] {
                        (name) "（" (crate::family::relation_label(relation)) "）"
                    }
                }
            }
        }
        @if query.reset.is_some() { (layout::notice("good", "已重置：此前生成的二维码（包括截图和照片）已全部失效，请出示下面的新码。")) }
        @if query.appealed.is_some() { (layout::notice("good", "申诉已提交，处理结果会出现在“我的记录”的告知书与申诉中。")) }
        section class={ "card code " (class) } aria-labelledby="colour" {
            div class="qr" { (PreEscaped(svg)) }
            p id="colour" class={ "colour " (class) } { (words) }
            @if code.reasons.is_empty() {
                p { "当前没有红码原因，请放心出示。" }
            } @else {
                div class="reasons" {
                    h2 { "标识为红色的原因" }
                    ul {
                        @for reason in &code.reasons {
                            li class="reason" {
                                strong class="label" { (reason.reason.label()) }
                                " （自 " (domain::week::cst_rfc3339(reason.since).get(..10).unwrap_or("")) "）"
                                p class="hint" { "解除指引：" (guidance(reason.reason)) }
                                @if own {
                                    form method="post" action="/appeal" class="inline" {
                                        (layout::csrf_field(&ctx))
                                        input type="hidden" name="reason" value=(reason.reason.as_str());
                                        button type="submit" class="link" { "对此原因申诉" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p class="actions" {
                a class="button" href=(member.map_or_else(|| "/".to_owned(), |m| format!("/?member={m}"))) id="refresh" { "刷新" }
            }
        }
        p class="hint" {
            "出示时请确认页面上的文字：绿码或红码。二维码每次打开都会重新生成，本页每 4 分钟自动刷新；"
            "截图或照片只能被查验颜色，记录体温和查看申报需要当前的码。"
        }
        @if own {
            form method="post" action="/code/reset" class="inline" {
                (layout::csrf_field(&ctx))
                button type="submit" class="link" id="reset" { "重置健康码（此前的二维码、截图全部失效）" }
            }
        }
        p class="actions" {
            a href="/family" { "家庭成员" }
            a href="/entry" { "入粤登记" }
        }
    };
    // Fresh codes for the scanner: the page fetches a new one every four minutes.
    ctx.page(layout::page_refreshed(
        &ctx,
        "我的粤康码",
        content,
        Some(240),
    ))
}

/// A form with nothing but its anti-forgery token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /code/reset`: voids every code token issued before (a photographed code stops
/// working), then shows the new code.
pub async fn reset_code(
    req: HttpRequest,
    state: web::Data<PagesState>,
    input: web::Form<CsrfForm>,
) -> HttpResponse {
    let (ctx, person) = match signed_in_post(&req, &state, &input.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let command = CommandContext::new(services::auth::person_actor(person));
    match services::citizens::reset_code(&state.services, &command, person).await {
        Ok(_) => redirect("/?reset=1"),
        Err(error) => ctx.page(layout::page(
            &ctx,
            "我的粤康码",
            layout::notice("bad", &messages::general(&error)),
        )),
    }
}

/// The appeal form as posted.
#[derive(Debug, Deserialize)]
pub struct AppealForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// `POST /appeal`: an appeal against one of the person's active reasons, answered by the feed.
pub async fn appeal(
    req: HttpRequest,
    state: web::Data<PagesState>,
    input: web::Form<AppealForm>,
) -> HttpResponse {
    let (ctx, person) = match signed_in_post(&req, &state, &input.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let command = CommandContext::new(services::auth::person_actor(person));
    match services::citizens::file_appeal(&state.services, &command, person, &input.reason).await {
        Ok(outcome) => {
            let _ = state.runner.wait_for(outcome.position(), state.wait).await;
            redirect("/?appealed=1")
        }
        Err(error) => ctx.page_with(
            actix_web::http::StatusCode::CONFLICT,
            layout::page(
                &ctx,
                "申诉",
                html! {
                    (layout::notice("bad", &messages::general(&error)))
                    p { a href="/" { "返回我的粤康码" } }
                },
            ),
        ),
    }
}
