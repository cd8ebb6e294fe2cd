//! The quick check-in page a venue poster's QR opens (体温正常快速打卡): the signed-in person
//! confirms, and sees the venue's name.

use actix_web::{web, HttpRequest, HttpResponse};
use commands::CommandContext;
use maud::html;
use serde::Deserialize;

use crate::context::Ctx;
use crate::gate::signed_in_post;
use crate::layout::{self, csrf_field};
use crate::messages;
use crate::PagesState;

/// `?t=<poster token>`.
#[derive(Debug, Deserialize)]
pub struct PosterQuery {
    #[serde(default)]
    t: String,
}

/// `GET /checkin?t=…`: the confirmation.
pub async fn page(
    req: HttpRequest,
    state: web::Data<PagesState>,
    query: web::Query<PosterQuery>,
) -> HttpResponse {
    let ctx = Ctx::of(&req, &state).await;
    if ctx.person.is_none() {
        return crate::gate::to_sign_in(&req);
    }
    ctx.page(layout::page(
        &ctx,
        "快速打卡",
        html! {
            form method="post" action="/checkin" class="card" {
                (csrf_field(&ctx))
                input type="hidden" name="t" value=(query.t);
                p { "确认本人体温正常，并在此场所打卡。" }
                button type="submit" id="check-in" { "体温正常，打卡" }
            }
        },
    ))
}

/// The confirmation as posted.
#[derive(Debug, Deserialize)]
pub struct CheckInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    t: String,
}

/// `POST /checkin`.
pub async fn submit(
    req: HttpRequest,
    state: web::Data<PagesState>,
    input: web::Form<CheckInForm>,
) -> HttpResponse {
    let (ctx, person) = match signed_in_post(&req, &state, &input.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let command = CommandContext::new(services::auth::person_actor(person));
    let checked = match state.services.limiter.take(
        services::limits::Action::CheckIn,
        &person.to_string(),
        state.services.now(),
    ) {
        Ok(()) => {
            services::venues::check_in(&state.services, &command, person, &input.t, None).await
        }
        Err(e) => Err(e),
    };
    let content = match checked {
        Ok(outcome) => html! {
            (layout::notice("good", "打卡成功"))
            p { "场所：" strong id="venue-name" { (outcome.response().venue_name) } }
        },
        Err(error) => layout::notice("bad", &messages::general(&error)),
    };
    ctx.page(layout::page(&ctx, "快速打卡", content))
}
