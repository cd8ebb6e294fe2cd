//! The citizen's 粤康码: the QR to show, 绿码 or 红码 in words as well as colour, each red
//! reason with its label and how it is released, and a refresh.

use actix_web::{web, HttpRequest, HttpResponse};
use crypto::qr::{self, QrColour};
use domain::health_code::Colour;
use domain::identity::RedReason;
use maud::{html, PreEscaped};

use crate::context::{redirect, Ctx};
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

/// `GET /`: the signed-in person's code, or the sign-in page.
pub async fn code_page(req: HttpRequest, state: web::Data<PagesState>) -> HttpResponse {
    let ctx = Ctx::of(&req, &state).await;
    let Some(person) = ctx.person else {
        return redirect("/login");
    };
    let code = match services::citizens::health_code(&state.services, person).await {
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
    let content = html! {
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
                            }
                        }
                    }
                }
            }
            p class="actions" {
                a class="button" href="/" id="refresh" { "刷新" }
            }
        }
        p class="hint" { "出示时请确认页面上的文字：绿码或红码。截图同样可以被查验。" }
    };
    ctx.page(layout::page(&ctx, "我的粤康码", content))
}
