//! Entry registration (入粤登记): where one comes from, how, the trip number of public
//! transport, the arrival date and the destination in Guangdong.

use actix_web::{web, HttpRequest, HttpResponse};
use commands::CommandContext;
use domain::health::EntryInput;
use maud::{html, Markup};
use serde::Deserialize;

use crate::context::{redirect, Ctx};
use crate::gate::signed_in_post;
use crate::layout::{self, csrf_field, field};
use crate::messages::Problems;
use crate::PagesState;

const TRANSPORTS: [(&str, &str); 6] = [
    ("flight", "飞机"),
    ("train", "火车"),
    ("coach", "大巴"),
    ("ship", "轮船"),
    ("car", "自驾"),
    ("other", "其他"),
];

/// The form as posted.
#[derive(Debug, Default, Deserialize)]
pub struct EntryForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    origin: String,
    #[serde(default)]
    transport: String,
    #[serde(default)]
    trip_number: String,
    #[serde(default)]
    arrival_date: String,
    #[serde(default)]
    destination: String,
}

fn form(ctx: &Ctx, input: &EntryForm, problems: &Problems) -> Markup {
    layout::page(
        ctx,
        "入粤登记",
        html! {
            @if let Some(general) = &problems.general { (layout::notice("bad", general)) }
            form method="post" action="/entry" class="card" novalidate {
                (csrf_field(ctx))
                (field("origin", "出发地", &input.origin, "text", problems.field("origin"), Some("例如 湖北省武汉市")))
                div class={ "field" @if problems.field("transport").is_some() { " invalid" } } {
                    label for="transport" { "交通方式" }
                    select id="transport" name="transport" {
                        @for (value, label) in TRANSPORTS {
                            option value=(value) selected[input.transport == value] { (label) }
                        }
                    }
                    @if let Some(e) = problems.field("transport") { p class="error" role="alert" { (e) } }
                }
                (field("trip_number", "航班号、车次或船班", &input.trip_number, "text", problems.field("trip_number"), Some("乘坐公共交通时填写")))
                (field("arrival_date", "抵达日期", &input.arrival_date, "date", problems.field("arrival_date"), None))
                (field("destination", "目的地区划代码", &input.destination, "text", problems.field("destination"), Some("广东省内，例如 440305")))
                button type="submit" id="register-entry" { "提交登记" }
            }
        },
    )
}

/// `GET /entry`.
pub async fn page(req: HttpRequest, state: web::Data<PagesState>) -> HttpResponse {
    let ctx = Ctx::of(&req, &state).await;
    if ctx.person.is_none() {
        return crate::gate::to_sign_in(&req);
    }
    ctx.page(form(&ctx, &EntryForm::default(), &Problems::default()))
}

/// `POST /entry`: registers the entry, then the entries history.
pub async fn submit(
    req: HttpRequest,
    state: web::Data<PagesState>,
    input: web::Form<EntryForm>,
) -> HttpResponse {
    let (ctx, person) = match signed_in_post(&req, &state, &input.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let trip = input.trip_number.trim();
    let entry = EntryInput {
        origin: &input.origin,
        transport: &input.transport,
        trip_number: (!trip.is_empty()).then_some(trip),
        arrival_date: input.arrival_date.trim(),
        destination: input.destination.trim(),
    };
    let command = CommandContext::new(services::auth::person_actor(person));
    match services::citizens::register_entry(&state.services, &command, person, &entry).await {
        Ok(outcome) => {
            let _ = state.runner.wait_for(outcome.position(), state.wait).await;
            redirect("/history?kind=entries")
        }
        Err(error) => ctx.page_with(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            form(&ctx, &input, &Problems::of(&error)),
        ),
    }
}
