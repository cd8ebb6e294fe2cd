//! The organisation admin's pages: registering the organisation, the day's figures with the
//! 14-day chart and a date picker, the CSV download, and editing the details (once a natural
//! week, the page says when the next change is allowed).

use actix_web::{web, HttpRequest, HttpResponse};
use commands::CommandContext;
use maud::{html, Markup};
use serde::Deserialize;
use services::orgs::{self, AdminAction, OrgInput, OrgPatch};

use crate::charts;
use crate::context::{redirect, Ctx};
use crate::gate::{signed_in, signed_in_post};
use crate::layout::{self, csrf_field, field};
use crate::messages::{self, Problems};
use crate::PagesState;

/// The levels an organisation belongs to (行政归属层级).
const LEVELS: [(&str, &str); 5] = [
    ("province", "省级"),
    ("city", "市级"),
    ("county", "区县级"),
    ("town", "镇街级"),
    ("village", "村居级"),
];

/// The registration or edit form as posted.
#[derive(Debug, Default, Deserialize)]
pub struct OrgForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    phone: String,
}

fn details(ctx: &Ctx, action: &str, input: &OrgForm, problems: &Problems, submit: &str) -> Markup {
    html! {
        form method="post" action=(action) class="card" novalidate {
            (csrf_field(ctx))
            (field("name", "组织机构名称", &input.name, "text", problems.field("name"), None))
            (field("address", "地址", &input.address, "text", problems.field("address"), None))
            div class={ "field" @if problems.field("level").is_some() { " invalid" } } {
                label for="level" { "行政归属层级" }
                select id="level" name="level" {
                    @for (value, label) in LEVELS {
                        option value=(value) selected[input.level == value] { (label) }
                    }
                }
                @if let Some(e) = problems.field("level") { p class="error" role="alert" { (e) } }
            }
            (field("phone", "管理员手机号码", &input.phone, "tel", problems.field("phone"), None))
            button type="submit" id="save" { (submit) }
        }
    }
}

async fn dashboard(
    ctx: &Ctx,
    state: &PagesState,
    person: domain::identity::PersonId,
    org_id: &str,
    date: Option<&str>,
    edit: (&OrgForm, &Problems),
) -> HttpResponse {
    let services = &state.services;
    let admin =
        match orgs::authorize_admin(services, org_id, person, AdminAction::SeeDashboard).await {
            Ok(admin) => admin,
            Err(e) => return failure(ctx, &e),
        };
    let shown = match orgs::show(services, &admin).await {
        Ok(shown) => shown,
        Err(e) => return failure(ctx, &e),
    };
    let (day, problems) =
        match services::calendar::asked_day(date.filter(|d| !d.is_empty()), services.now()) {
            Ok(day) => (day, Problems::default()),
            Err(e) => (domain::week::today(services.now()), Problems::of(&e)),
        };
    let stats = match orgs::dashboard(services, &admin, day).await {
        Ok(stats) => stats,
        Err(e) => return failure(ctx, &e),
    };
    let declared: Vec<(String, i64)> = stats
        .series
        .iter()
        .map(|d| (d.date.get(5..).unwrap_or(&d.date).to_owned(), d.declared))
        .collect();
    let fever: Vec<(String, i64)> = stats
        .series
        .iter()
        .map(|d| (d.date.get(5..).unwrap_or(&d.date).to_owned(), d.fever))
        .collect();
    let (edit_input, edit_problems) = edit;
    let prefilled = OrgForm {
        csrf: String::new(),
        name: if edit_input.name.is_empty() {
            shown.name.clone()
        } else {
            edit_input.name.clone()
        },
        address: if edit_input.address.is_empty() {
            shown.address.clone()
        } else {
            edit_input.address.clone()
        },
        level: if edit_input.level.is_empty() {
            shown.level.clone()
        } else {
            edit_input.level.clone()
        },
        phone: if edit_input.phone.is_empty() {
            shown.phone.clone().unwrap_or_default()
        } else {
            edit_input.phone.clone()
        },
    };
    let status = if edit_problems.fields.is_empty() && edit_problems.general.is_none() {
        actix_web::http::StatusCode::OK
    } else {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    let content = html! {
        section class="card" {
            p { strong { (shown.name) } }
            p { "申报码（成员绑定用）：" strong id="org-code" { (shown.code) } }
        }
        (layout::date_picker("/org", &day.to_string(), problems.field("date")))
        h2 { (day.to_string()) " 数据" }
        div class="figures" {
            (layout::figure("members", "成员", stats.members))
            (layout::figure("declared-today", "当日已申报", stats.declared_today))
            (layout::figure("not-declared-today", "当日未申报", stats.not_declared_today))
            (layout::figure("fever-today", "当日发热", stats.fever_today))
            (layout::figure("symptoms-today", "当日有症状", stats.symptoms_today))
        }
        div class="two" {
            (charts::bars("declared-series", "近 14 天申报人数", &declared))
            (charts::bars("fever-series", "近 14 天发热人数", &fever))
        }
        p { a class="button secondary" href=(format!("/org/stats.csv?date={day}")) download { "下载 CSV" } }
        h2 { "修改组织机构信息" }
        @if let Some(next) = shown.next_edit_allowed_at {
            (layout::notice("", &format!(
                "每个自然周只能修改一次，下次可修改时间：{}",
                domain::week::cst_rfc3339(next).replace('T', " ").get(..16).unwrap_or("")
            )))
        }
        @if let Some(general) = &edit_problems.general { (layout::notice("bad", general)) }
        (details(ctx, "/org/edit", &prefilled, edit_problems, "保存修改"))
    };
    ctx.page_with(status, layout::page(ctx, "组织机构管理", content))
}

fn failure(ctx: &Ctx, error: &services::ServiceError) -> HttpResponse {
    ctx.page(layout::page(
        ctx,
        "组织机构管理",
        layout::notice("bad", &messages::general(error)),
    ))
}

async fn mine(state: &PagesState, person: domain::identity::PersonId) -> Option<String> {
    projections::orgs::of_admin(&state.services.db, &person.to_string())
        .await
        .ok()
        .flatten()
        .map(|o| o.org_id)
}

/// `GET /org`: the admin's organisation for a day, or the form to register one.
pub async fn page(
    req: HttpRequest,
    state: web::Data<PagesState>,
    query: web::Query<layout::DayQuery>,
) -> HttpResponse {
    let (ctx, person) = match signed_in(&req, &state).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    match mine(&state, person).await {
        Some(org_id) => {
            dashboard(
                &ctx,
                &state,
                person,
                &org_id,
                query.date.as_deref(),
                (&OrgForm::default(), &Problems::default()),
            )
            .await
        }
        None => ctx.page(layout::page(
            &ctx,
            "登记组织机构",
            details(
                &ctx,
                "/org",
                &OrgForm::default(),
                &Problems::default(),
                "登记",
            ),
        )),
    }
}

/// `POST /org`: registers the organisation.
pub async fn register(
    req: HttpRequest,
    state: web::Data<PagesState>,
    input: web::Form<OrgForm>,
) -> HttpResponse {
    let (ctx, person) = match signed_in_post(&req, &state, &input.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let org = OrgInput {
        name: input.name.clone(),
        address: input.address.clone(),
        level: input.level.clone(),
        phone: input.phone.clone(),
    };
    let command = CommandContext::new(services::auth::person_actor(person));
    match orgs::register(&state.services, &command, person, &org).await {
        Ok(outcome) => {
            let _ = state.runner.wait_for(outcome.position(), state.wait).await;
            redirect("/org")
        }
        Err(error) => ctx.page_with(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            layout::page(&ctx, "登记组织机构", html! {
                @if let Some(general) = Problems::of(&error).general { (layout::notice("bad", &general)) }
                (details(&ctx, "/org", &input, &Problems::of(&error), "登记"))
            }),
        ),
    }
}

/// `POST /org/edit`: changes what differs from the details shown.
pub async fn edit(
    req: HttpRequest,
    state: web::Data<PagesState>,
    input: web::Form<OrgForm>,
) -> HttpResponse {
    let (ctx, person) = match signed_in_post(&req, &state, &input.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let Some(org_id) = mine(&state, person).await else {
        return redirect("/org");
    };
    let services = &state.services;
    let permit = match orgs::authorize_admin(services, &org_id, person, AdminAction::Edit).await {
        Ok(permit) => permit,
        Err(e) => return failure(&ctx, &e),
    };
    let shown = match orgs::show(services, &permit).await {
        Ok(shown) => shown,
        Err(e) => return failure(&ctx, &e),
    };
    let changed = |new: &str, old: &str| (new.trim() != old).then(|| new.to_owned());
    let patch = OrgPatch {
        name: changed(&input.name, &shown.name),
        address: changed(&input.address, &shown.address),
        level: changed(&input.level, &shown.level),
        phone: changed(&input.phone, shown.phone.as_deref().unwrap_or("")),
    };
    let command = CommandContext::new(services::auth::person_actor(person));
    match orgs::edit(services, &command, permit, &patch).await {
        Ok(outcome) => {
            let _ = state.runner.wait_for(outcome.position(), state.wait).await;
            redirect("/org")
        }
        Err(error) => {
            let problems = Problems::of(&error);
            dashboard(&ctx, &state, person, &org_id, None, (&input, &problems)).await
        }
    }
}

/// `GET /org/stats.csv?date=`: the 14-day series as CSV.
pub async fn csv(
    req: HttpRequest,
    state: web::Data<PagesState>,
    query: web::Query<layout::DayQuery>,
) -> HttpResponse {
    let (ctx, person) = match signed_in(&req, &state).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let Some(org_id) = mine(&state, person).await else {
        return redirect("/org");
    };
    let services = &state.services;
    let stats =
        match orgs::authorize_admin(services, &org_id, person, AdminAction::SeeDashboard).await {
            Ok(admin) => match services::calendar::asked_day(
                query.date.as_deref().filter(|d| !d.is_empty()),
                services.now(),
            ) {
                Ok(day) => orgs::dashboard(services, &admin, day).await,
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
    match stats {
        Ok(stats) => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                "content-disposition",
                format!("attachment; filename=\"org-stats-{}.csv\"", stats.date),
            ))
            .body(orgs::series_csv(&stats)),
        Err(e) => failure(&ctx, &e),
    }
}
