//! The family (家庭成员): the members a guardian shows codes for, adding one (verified by the
//! identity provider for this guardian; with `--dev`, minted from what is typed: a minor by a
//! household or birth-certificate match, an adult by their face) and removing one.

use actix_web::{web, HttpRequest, HttpResponse};
use commands::CommandContext;
use maud::{html, Markup};
use serde::Deserialize;

use crate::context::Ctx;
use crate::gate::{signed_in, signed_in_post};
use crate::layout::{self, csrf_field, field};
use crate::messages::{self, Problems};
use crate::PagesState;

const RELATIONS: [(&str, &str); 7] = [
    ("child", "子女"),
    ("parent", "父母"),
    ("spouse", "配偶"),
    ("grandparent", "祖父母、外祖父母"),
    ("grandchild", "孙子女、外孙子女"),
    ("sibling", "兄弟姐妹"),
    ("other", "其他"),
];

/// The relation's name.
pub fn relation_label(raw: &str) -> &'static str {
    RELATIONS
        .iter()
        .find(|(v, _)| *v == raw)
        .map_or("家人", |(_, l)| l)
}

/// The members of `person`'s family: `(person id, masked name, relation)`.
pub async fn members(
    state: &PagesState,
    person: domain::identity::PersonId,
) -> Vec<(String, String, String)> {
    services::citizens::family(
        &state.services,
        person,
        services::page::PageRequest {
            limit: services::page::MAX_LIMIT,
            after: None,
        },
    )
    .await
    .map(|page| {
        page.items
            .into_iter()
            .map(|m| (m.person_id.to_string(), m.name_masked, m.relation))
            .collect()
    })
    .unwrap_or_default()
}

/// The add form as posted.
#[derive(Debug, Default, Deserialize)]
pub struct AddForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    assertion: String,
    #[serde(default)]
    relation: String,
    #[serde(default)]
    doc_type: String,
    #[serde(default)]
    doc_number: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    method: String,
}

async fn render(
    ctx: &Ctx,
    state: &PagesState,
    person: domain::identity::PersonId,
    input: &AddForm,
    problems: &Problems,
    done: Option<&str>,
) -> HttpResponse {
    let members = members(state, person).await;
    let status = if problems.fields.is_empty() && problems.general.is_none() {
        actix_web::http::StatusCode::OK
    } else {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    ctx.page_with(status, layout::page(ctx, "家庭成员", html! {
        @if let Some(done) = done { (layout::notice("good", done)) }
        @if let Some(general) = &problems.general { (layout::notice("bad", general)) }
        section class="card" {
            @if members.is_empty() { p { "还没有添加家庭成员。" } }
            ul class="history" id="members" {
                @for (id, name, relation) in &members {
                    li {
                        a href=(format!("/?member={id}")) { (name) "（" (relation_label(relation)) "）的粤康码" }
                        " "
                        form method="post" action=(format!("/family/{id}/remove")) class="inline" {
                            (csrf_field(ctx))
                            button type="submit" class="link" { "移除" }
                        }
                    }
                }
            }
        }
        (add_form(ctx, input, problems))
    }))
}

fn add_form(ctx: &Ctx, input: &AddForm, problems: &Problems) -> Markup {
    html! {
        form method="post" action="/family" class="card" novalidate {
            h2 { "添加家庭成员" }
            (csrf_field(ctx))
            div class="field" {
                label for="relation" { "关系" }
                select id="relation" name="relation" {
                    @for (value, label) in RELATIONS {
                        option value=(value) selected[input.relation == value] { (label) }
                    }
                }
            }
            @if ctx.dev {
                p class="hint" { "开发模式：由内置的开发身份提供方代替核验。未成年人可用户籍或出生证明核验，成年人需人脸识别。" }
                div class="field" {
                    label for="doc_type" { "证件类型" }
                    select id="doc_type" name="doc_type" {
                        @for (value, label) in [("resident_id", "居民身份证"), ("birth_certificate", "出生医学证明"), ("hk_macao_permit", "港澳居民来往内地通行证"), ("passport", "护照")] {
                            option value=(value) selected[input.doc_type == value] { (label) }
                        }
                    }
                }
                (field("doc_number", "证件号码", &input.doc_number, "text", problems.field("document"), None))
                (field("name", "姓名", &input.name, "text", problems.field("name"), None))
                div class="field" {
                    label for="method" { "核验方式" }
                    select id="method" name="method" {
                        @for (value, label) in [("household", "户籍信息核验"), ("birth_certificate", "出生证明核验"), ("face", "人脸识别")] {
                            option value=(value) selected[input.method == value] { (label) }
                        }
                    }
                }
            } @else {
                div class={ "field" @if problems.field("assertion").is_some() { " invalid" } } {
                    label for="assertion" { "家庭成员的身份认证凭证" }
                    textarea id="assertion" name="assertion" { (input.assertion) }
                    @if let Some(e) = problems.field("assertion") { p class="error" role="alert" { (e) } }
                }
            }
            button type="submit" id="add-member" { "添加" }
        }
    }
}

/// `GET /family`.
pub async fn page(req: HttpRequest, state: web::Data<PagesState>) -> HttpResponse {
    let (ctx, person) = match signed_in(&req, &state).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    render(
        &ctx,
        &state,
        person,
        &AddForm::default(),
        &Problems::default(),
        None,
    )
    .await
}

/// `POST /family`: adds the member.
pub async fn add(
    req: HttpRequest,
    state: web::Data<PagesState>,
    input: web::Form<AddForm>,
) -> HttpResponse {
    let (ctx, person) = match signed_in_post(&req, &state, &input.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let assertion = match (&state.dev_provider, input.assertion.trim()) {
        (_, given) if !given.is_empty() => given.to_owned(),
        (Some(provider), _) => crate::sign_in::mint_dev(
            provider,
            &state,
            crate::sign_in::DevClaims {
                doc_type: &input.doc_type,
                doc_number: &input.doc_number,
                name: &input.name,
                phone: None,
                method: &input.method,
                aud: Some(format!("family:{person}")),
            },
        ),
        (None, _) => String::new(),
    };
    let command = CommandContext::new(services::auth::person_actor(person));
    match services::citizens::add_family_member(
        &state.services,
        &command,
        person,
        &assertion,
        &input.relation,
    )
    .await
    {
        Ok(outcome) => {
            let _ = state.runner.wait_for(outcome.position(), state.wait).await;
            render(
                &ctx,
                &state,
                person,
                &AddForm::default(),
                &Problems::default(),
                Some("已添加"),
            )
            .await
        }
        Err(error) => {
            let mut problems = Problems::of(&error);
            if let services::ServiceError::Unauthenticated { detail, .. } = &error {
                problems.general = Some(format!("核验未通过：{detail}"));
            }
            render(&ctx, &state, person, &input, &problems, None).await
        }
    }
}

/// `POST /family/{person_id}/remove`.
pub async fn remove(
    req: HttpRequest,
    state: web::Data<PagesState>,
    member: web::Path<String>,
    input: web::Form<crate::sign_in::CsrfOnly>,
) -> HttpResponse {
    let (ctx, person) = match signed_in_post(&req, &state, &input.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let command = CommandContext::new(services::auth::person_actor(person));
    match services::citizens::remove_family_member(&state.services, &command, person, &member).await
    {
        Ok(outcome) => {
            let _ = state.runner.wait_for(outcome.position(), state.wait).await;
            render(
                &ctx,
                &state,
                person,
                &AddForm::default(),
                &Problems::default(),
                Some("已移除"),
            )
            .await
        }
        Err(error) => {
            let problems = Problems {
                general: Some(messages::general(&error)),
                ..Problems::default()
            };
            render(&ctx, &state, person, &AddForm::default(), &problems, None).await
        }
    }
}
