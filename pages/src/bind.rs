//! Binding by code (扫码绑定): an organisation's code binds the person as a member (to declare
//! for it), a venue's as its inspector, a grid's as its worker. The code's first digit says
//! which.

use actix_web::{web, HttpRequest, HttpResponse};
use commands::CommandContext;
use domain::code::{BindingCode, CodeKind};
use maud::{html, Markup};
use serde::Deserialize;

use crate::context::{redirect, Ctx};
use crate::gate::signed_in_post;
use crate::layout::{self, csrf_field, field};
use crate::messages::Problems;
use crate::PagesState;

fn form(ctx: &Ctx, code: &str, problems: &Problems, done: Option<&str>) -> Markup {
    layout::page(
        ctx,
        "绑定",
        html! {
            @if let Some(done) = done { (layout::notice("good", done)) }
            form method="post" action="/bind" class="card" novalidate {
                (csrf_field(ctx))
                (field("code", "绑定码", code, "text", problems.field("code"),
                    Some("8 位数字：组织机构码、场所码或网格码")))
                button type="submit" id="bind" { "绑定" }
            }
        },
    )
}

/// `GET /bind`.
pub async fn page(req: HttpRequest, state: web::Data<PagesState>) -> HttpResponse {
    let ctx = Ctx::of(&req, &state).await;
    if ctx.person.is_none() {
        return crate::gate::to_sign_in(&req);
    }
    ctx.page(form(&ctx, "", &Problems::default(), None))
}

/// The form as posted.
#[derive(Debug, Deserialize)]
pub struct BindForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

/// `POST /bind`.
pub async fn submit(
    req: HttpRequest,
    state: web::Data<PagesState>,
    input: web::Form<BindForm>,
) -> HttpResponse {
    let (ctx, person) = match signed_in_post(&req, &state, &input.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let code = input.code.trim();
    let command = CommandContext::new(services::auth::person_actor(person));
    let services = &state.services;
    let client = crate::context::client(&req);
    let bound = match BindingCode::parse(code, "code") {
        Err(e) => Err(services::ServiceError::from(e)),
        Ok(parsed) => {
            services::limits::binding(services, person, &client, async {
                match parsed.kind() {
                    CodeKind::Org => services::orgs::bind(services, &command, person, None, code)
                        .await
                        .map(|o| {
                            (
                                o.position(),
                                "已绑定组织机构，可在“健康申报”中申报给它。".to_owned(),
                            )
                        }),
                    CodeKind::Venue => services::venues::bind(services, &command, person, code)
                        .await
                        .map(|o| (o.position(), format!("/inspect/{}", o.response().venue_id))),
                    CodeKind::Grid => services::grids::bind(services, &command, person, code)
                        .await
                        .map(|o| (o.position(), "已绑定网格，成为网格员。".to_owned())),
                }
            })
            .await
        }
    };
    match bound {
        Ok((position, next)) => {
            let _ = state.runner.wait_for(position, state.wait).await;
            if next.starts_with('/') {
                redirect(&next)
            } else {
                ctx.page(form(&ctx, "", &Problems::default(), Some(&next)))
            }
        }
        Err(error) => {
            let mut problems = Problems::of(&error);
            if let Some(general) = problems.general.take() {
                problems.fields.insert("code".into(), general);
            }
            ctx.page_with(
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
                form(&ctx, code, &problems, None),
            )
        }
    }
}
