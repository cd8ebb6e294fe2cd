//! The health declaration form (健康申报): for oneself or a family member, and for an
//! organisation the person is bound to; temperature or how it is, symptoms, contact in the
//! last 14 days, places visited, and where one is now.

use actix_web::{web, HttpRequest, HttpResponse};
use commands::CommandContext;
use domain::health::{DeclarationInput, Symptom};
use maud::{html, Markup};

use crate::context::{forgery_checked, redirect, Ctx};
use crate::gate::forged;
use crate::gate::signed_in;
use crate::layout::{self, csrf_field, field};
use crate::messages::{self, Problems};
use crate::PagesState;

/// The symptoms in the guide's words.
pub fn symptom_label(symptom: Symptom) -> &'static str {
    match symptom {
        Symptom::Fever => "发热",
        Symptom::Cough => "咳嗽",
        Symptom::Fatigue => "乏力",
        Symptom::SoreThroat => "咽痛",
        Symptom::ShortnessOfBreath => "气促",
        Symptom::Diarrhoea => "腹泻",
        Symptom::LossOfSmellOrTaste => "嗅觉或味觉减退",
        Symptom::MuscleAche => "肌肉酸痛",
        Symptom::Other => "其他不适",
    }
}

/// The symptoms of a declaration as recorded (`["cough", …]`), in words (`咳嗽、乏力`, or `无`).
pub fn symptoms_text(symptoms: &serde_json::Value) -> String {
    let labels: Vec<&str> = symptoms
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().and_then(Symptom::parse))
        .map(symptom_label)
        .collect();
    if labels.is_empty() {
        "无".to_owned()
    } else {
        labels.join("、")
    }
}

/// The form as posted (repeated `symptoms`, so read as pairs).
#[derive(Debug, Default, Clone)]
pub struct Form {
    csrf: String,
    subject: String,
    org: String,
    temperature: String,
    band: String,
    symptoms: Vec<String>,
    contact: String,
    visited: String,
    region: String,
}

impl Form {
    fn parse(body: &[u8]) -> Self {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
        let mut form = Form::default();
        for (key, value) in pairs {
            match key.as_str() {
                "csrf" => form.csrf = value,
                "subject" => form.subject = value,
                "org" => form.org = value,
                "temperature" => form.temperature = value,
                "band" => form.band = value,
                "symptoms" => form.symptoms.push(value),
                "contact" => form.contact = value,
                "visited" => form.visited = value,
                "region" => form.region = value,
                _ => {}
            }
        }
        form
    }
}

struct Choices {
    family: Vec<(String, String)>,
    orgs: Vec<(String, String)>,
}

async fn choices(state: &PagesState, person: domain::identity::PersonId) -> Choices {
    let family = crate::family::members(state, person)
        .await
        .into_iter()
        .map(|(id, name, _)| (id, name))
        .collect();
    let orgs = projections::orgs::of_member(&state.services.db, &person.to_string())
        .await
        .map(|orgs| orgs.into_iter().map(|o| (o.org_id, o.name)).collect())
        .unwrap_or_default();
    Choices { family, orgs }
}

fn form(ctx: &Ctx, input: &Form, choices: &Choices, problems: &Problems) -> Markup {
    let error = |name: &str| problems.field(name);
    layout::page(
        ctx,
        "健康申报",
        html! {
            @if let Some(general) = &problems.general { (layout::notice("bad", general)) }
            form method="post" action="/declare" class="card" novalidate {
                (csrf_field(ctx))
                div class="field" {
                    label for="subject" { "申报人" }
                    select id="subject" name="subject" {
                        option value="" { "本人" }
                        @for (id, name) in &choices.family {
                            option value=(id) selected[input.subject == *id] { "家庭成员 " (name) }
                        }
                    }
                }
                @if !choices.orgs.is_empty() {
                    div class="field" {
                        label for="org" { "申报给组织机构" }
                        select id="org" name="org" {
                            option value="" { "不申报给组织机构" }
                            @for (id, name) in &choices.orgs {
                                option value=(id) selected[input.org == *id] { (name) }
                            }
                        }
                    }
                }
                (field("temperature", "体温（℃）", &input.temperature, "text", error("temperature_c"), Some("可不填，例如 36.5")))
                fieldset class={ "field" @if error("band").is_some() { " invalid" } } {
                    legend { "体温情况" }
                    label { input type="radio" name="band" value="normal" checked[input.band != "fever"]; " 正常" }
                    label { input type="radio" name="band" value="fever" checked[input.band == "fever"]; " 发热" }
                    @if let Some(e) = error("band") { p class="error" role="alert" { (e) } }
                }
                fieldset class={ "field" @if error("symptoms").is_some() { " invalid" } } {
                    legend { "目前症状（可多选）" }
                    @for symptom in Symptom::ALL {
                        label {
                            input type="checkbox" name="symptoms" value=(symptom.as_str())
                                checked[input.symptoms.iter().any(|s| s == symptom.as_str())];
                            " " (symptom_label(symptom))
                        }
                    }
                    @if let Some(e) = error("symptoms") { p class="error" role="alert" { (e) } }
                }
                fieldset class="field" {
                    legend { "14 天内是否接触过确诊或疑似病例" }
                    label { input type="radio" name="contact" value="no" checked[input.contact != "yes"]; " 否" }
                    label { input type="radio" name="contact" value="yes" checked[input.contact == "yes"]; " 是" }
                }
                div class={ "field" @if error("visited").is_some() { " invalid" } } {
                    label for="visited" { "14 天内去过的地方" }
                    small class="hint" { "每行一个，可不填" }
                    textarea id="visited" name="visited" { (input.visited) }
                    @if let Some(e) = error("visited") { p class="error" role="alert" { (e) } }
                }
                (field("region", "目前所在地区划代码", &input.region, "text", error("region"), Some("例如 440305")))
                button type="submit" id="declare" { "提交申报" }
            }
        },
    )
}

/// `GET /declare`.
pub async fn page(req: HttpRequest, state: web::Data<PagesState>) -> HttpResponse {
    let (ctx, person) = match signed_in(&req, &state).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let choices = choices(&state, person).await;
    ctx.page(form(&ctx, &Form::default(), &choices, &Problems::default()))
}

/// `POST /declare`: files the declaration, then the declarations history.
pub async fn submit(
    req: HttpRequest,
    state: web::Data<PagesState>,
    body: web::Bytes,
) -> HttpResponse {
    let (ctx, person) = match signed_in(&req, &state).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let input = Form::parse(&body);
    if !forgery_checked(&req, &input.csrf) {
        return forged(&ctx);
    }
    let temperature = input.temperature.trim();
    let temperature_c = if temperature.is_empty() {
        None
    } else {
        match temperature.parse::<f64>() {
            Ok(t) => Some(t),
            Err(_) => {
                let mut problems = Problems::default();
                problems
                    .fields
                    .insert("temperature_c".into(), "请填写数字，例如 36.5".into());
                let choices = choices(&state, person).await;
                return ctx.page_with(
                    actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
                    form(&ctx, &input, &choices, &problems),
                );
            }
        }
    };
    let visited: Vec<String> = input
        .visited
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let declaration = DeclarationInput {
        temperature_c,
        band: (!input.band.is_empty()).then_some(input.band.as_str()),
        symptoms: &input.symptoms,
        contact_14d: input.contact == "yes",
        visited: &visited,
        region: input.region.trim(),
    };
    let subject = uuid::Uuid::parse_str(&input.subject).ok();
    let org = uuid::Uuid::parse_str(&input.org).ok();
    let command = CommandContext::new(services::auth::person_actor(person));
    match services::citizens::file_declaration(
        &state.services,
        &command,
        person,
        subject,
        org,
        &declaration,
    )
    .await
    {
        Ok(outcome) => {
            let _ = state.runner.wait_for(outcome.position(), state.wait).await;
            redirect("/history?kind=declarations&filed=1")
        }
        Err(error) => {
            let choices = choices(&state, person).await;
            let mut problems = Problems::of(&error);
            if problems.fields.is_empty() && problems.general.is_none() {
                problems.general = Some(messages::general(&error));
            }
            ctx.page_with(
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
                form(&ctx, &input, &choices, &problems),
            )
        }
    }
}
