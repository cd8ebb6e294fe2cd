//! Grid pages (网格). The grid admin: creating the grid, its figures with the 14-day chart,
//! workers with authorise / revoke / unbind, key persons, handover to a named successor and
//! dissolution confirmed with the grid's code. The worker: their grids and the current one,
//! scanning a code and recording the visit on it, or entering a visit by hand.

use actix_web::{web, HttpRequest, HttpResponse};
use commands::CommandContext;
use crypto::qr::{self, QrColour};
use domain::health::Symptom;
use maud::{html, Markup, PreEscaped};
use serde::Deserialize;
use services::grids::{self, GridInput, ManualPersonInput, VisitInput, WorkerAction};

use crate::charts;
use crate::context::{redirect, Ctx};
use crate::declare::symptom_label;
use crate::gate::{signed_in, signed_in_post};
use crate::layout::{self, csrf_field, field};
use crate::messages::{self, Problems};
use crate::PagesState;

fn status_label(status: &str) -> &'static str {
    match status {
        "pending" => "待确认",
        "active" => "已确认",
        "dissolved" => "已解散",
        _ => "未知",
    }
}

/// A page's answer: `422` when the form was refused.
fn answer(ctx: &Ctx, refused: bool, title: &str, content: Markup) -> HttpResponse {
    let status = if refused {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        actix_web::http::StatusCode::OK
    };
    ctx.page_with(status, layout::page(ctx, title, content))
}

/// The creation form as posted.
#[derive(Debug, Default, Deserialize)]
pub struct GridForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    name: String,
}

fn create_form(ctx: &Ctx, input: &GridForm, problems: &Problems) -> Markup {
    html! {
        @if let Some(general) = &problems.general { (layout::notice("bad", general)) }
        form method="post" action="/grid" class="card" novalidate {
            (csrf_field(ctx))
            (field("name", "网格名称", &input.name, "text", problems.field("name"), None))
            (field("region", "所在村（社区）或镇（街道）区划代码", &input.region, "text", problems.field("region"), Some("9 或 12 位数字")))
            button type="submit" id="create-grid" { "创建网格" }
        }
    }
}

/// What the admin's page shows beside the figures: a token just issued, a form refused.
#[derive(Debug, Default)]
struct AdminExtras {
    handover: Option<(String, String)>,
    problems: Problems,
    done: Option<&'static str>,
}

async fn admin_page(
    ctx: &Ctx,
    state: &PagesState,
    person: domain::identity::PersonId,
    date: Option<&str>,
    extras: AdminExtras,
) -> HttpResponse {
    let services = &state.services;
    let grid = match projections::grids::admin_grid(&services.db, &person.to_string()).await {
        Ok(Some(grid)) => grid,
        Ok(None) => {
            let refused = extras.problems.general.is_some() || !extras.problems.fields.is_empty();
            return answer(
                ctx,
                refused,
                "创建网格",
                html! {
                    @if let Some(done) = extras.done { (layout::notice("good", done)) }
                    (create_form(ctx, &GridForm::default(), &extras.problems))
                },
            );
        }
        Err(e) => {
            return answer(
                ctx,
                false,
                "网格管理",
                layout::notice(
                    "bad",
                    &messages::general(&services::ServiceError::internal(e)),
                ),
            )
        }
    };
    let (day, day_problems) =
        match services::calendar::asked_day(date.filter(|d| !d.is_empty()), services.now()) {
            Ok(day) => (day, Problems::default()),
            Err(e) => (domain::week::today(services.now()), Problems::of(&e)),
        };
    let stats = match grids::authorize_admin(services, &grid.grid_id, person).await {
        Ok(admin) => grids::stats(services, &admin, day).await,
        Err(e) => Err(e),
    };
    let stats = match stats {
        Ok(stats) => stats,
        Err(e) => {
            return answer(
                ctx,
                false,
                "网格管理",
                layout::notice("bad", &messages::general(&e)),
            )
        }
    };
    let workers = projections::grids::workers(&services.db, &grid.grid_id)
        .await
        .unwrap_or_default();
    let visits: Vec<(String, i64)> = stats
        .series
        .iter()
        .map(|d| {
            (
                d.date.to_string().get(5..).unwrap_or("").to_owned(),
                services.figure(d.visits).chart_value(),
            )
        })
        .collect();
    let flagged: Vec<(String, i64)> = stats
        .series
        .iter()
        .map(|d| {
            (
                d.date.to_string().get(5..).unwrap_or("").to_owned(),
                services.figure(d.fever.max(d.symptoms)).chart_value(),
            )
        })
        .collect();
    let problems = &extras.problems;
    let refused = problems.general.is_some() || !problems.fields.is_empty();
    let worker_action = |id: &str, action: &str, label: &str| {
        html! {
            form method="post" action=(format!("/grid/workers/{id}/{action}")) class="inline" {
                (csrf_field(ctx))
                button type="submit" class="link" { (label) }
            }
        }
    };
    let content = html! {
        @if let Some(done) = extras.done { (layout::notice("good", done)) }
        @if let Some(general) = &problems.general { (layout::notice("bad", general)) }
        section class="card" {
            p { strong { (grid.name) } " · " (grid.region) " · " span id="grid-status" { (status_label(&grid.status)) } }
            p { "网格码（网格员绑定用）：" strong id="grid-code" { (grid.code) } }
            @if grid.status == "pending" { p class="hint" { "网格需由所属区域的管理员确认后，网格员才能登记走访。" } }
        }
        (layout::date_picker("/grid", &day.to_string(), day_problems.field("date")))
        div class="figures" {
            (layout::figure("workers", "网格员", stats.workers))
            (layout::figure("authorised", "已授权", stats.authorised))
            (layout::figure("visits-today", "当日走访", services.figure(stats.visits_today)))
            (layout::figure("visits-total", "累计走访", services.figure(stats.visits_total)))
        }
        div class="two" {
            (charts::bars("visit-series", "近 14 天走访", &visits))
            (charts::bars("flagged-series", "近 14 天发热或有症状", &flagged))
        }
        section class="card" {
            h2 { "网格员" }
            @if workers.is_empty() { p { "还没有网格员。请把网格码告诉网格员，由其在“绑定”页面绑定。" } }
            table {
                tbody {
                    @for w in &workers {
                        @let counts = stats.per_worker.iter().find(|p| p.worker == w.person_id);
                        tr {
                            td { (w.person_id.get(..8).unwrap_or("")) "…" }
                            td { @if w.authorised != 0 { "已授权" } @else { "未授权" } }
                            td { "当日 " (services.figure(counts.map_or(0, |c| c.today))) " · 累计 " (services.figure(counts.map_or(0, |c| c.total))) }
                            td {
                                @if w.authorised != 0 { (worker_action(&w.person_id, "revoke", "撤销授权")) }
                                @else { (worker_action(&w.person_id, "authorise", "授权")) }
                                " " (worker_action(&w.person_id, "unbind", "解绑"))
                            }
                        }
                    }
                }
            }
            p { a href="/grid/key-persons" { "重点人员" } }
        }
        section class="card" {
            h2 { "移交网格" }
            @if let Some((token, svg)) = &extras.handover {
                (layout::notice("good", "请把下面的移交码交给接任者，24 小时内有效，仅显示一次"))
                div class="qr" { (PreEscaped(svg)) }
                p { code id="handover-token" { (token) } }
            }
            form method="post" action="/grid/handover" novalidate {
                (csrf_field(ctx))
                p class="hint" { "接任者用本人证件登录后，在“接收网格”页面（/grid/accept）输入移交码。" }
                (field("successor_name", "接任者姓名", "", "text", problems.field("successor_name"), None))
                (field("successor_number", "接任者居民身份证号码", "", "text", problems.field("successor_document"), None))
                button type="submit" class="secondary" { "生成移交码" }
            }
        }
        section class="card" {
            h2 { "解散网格" }
            p class="hint" { "解散后，网格收集的个人信息将无法再读取，此操作不可撤销。请输入网格码确认。" }
            form method="post" action="/grid/dissolution" novalidate {
                (csrf_field(ctx))
                (field("confirm_code", "网格码", "", "text", problems.field("confirm_code"), None))
                button type="submit" class="fever" id="dissolve" { "确认解散" }
            }
        }
    };
    answer(ctx, refused, "网格管理", content)
}

/// `GET /grid`: the admin's grid, or the form to create one.
pub async fn admin(
    req: HttpRequest,
    state: web::Data<PagesState>,
    query: web::Query<layout::DayQuery>,
) -> HttpResponse {
    let (ctx, person) = match signed_in(&req, &state).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    admin_page(
        &ctx,
        &state,
        person,
        query.date.as_deref(),
        AdminExtras::default(),
    )
    .await
}

/// `POST /grid`: creates the grid.
pub async fn create(
    req: HttpRequest,
    state: web::Data<PagesState>,
    input: web::Form<GridForm>,
) -> HttpResponse {
    let (ctx, person) = match signed_in_post(&req, &state, &input.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let command = CommandContext::new(services::auth::person_actor(person));
    let grid = GridInput {
        region: input.region.clone(),
        name: input.name.clone(),
    };
    match grids::create(&state.services, &command, person, &grid).await {
        Ok(outcome) => {
            let _ = state.runner.wait_for(outcome.position(), state.wait).await;
            redirect("/grid")
        }
        Err(error) => answer(
            &ctx,
            true,
            "创建网格",
            create_form(&ctx, &input, &Problems::of(&error)),
        ),
    }
}

async fn admin_grid_id(state: &PagesState, person: domain::identity::PersonId) -> Option<String> {
    projections::grids::admin_grid(&state.services.db, &person.to_string())
        .await
        .ok()
        .flatten()
        .map(|g| g.grid_id)
}

/// `POST /grid/workers/{person_id}/{action}`: authorise, revoke, unbind.
pub async fn worker_action(
    req: HttpRequest,
    state: web::Data<PagesState>,
    path: web::Path<(String, String)>,
    input: web::Form<crate::sign_in::CsrfOnly>,
) -> HttpResponse {
    let (ctx, person) = match signed_in_post(&req, &state, &input.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let (worker, action) = path.into_inner();
    let (action, done) = match action.as_str() {
        "authorise" => (WorkerAction::Authorise, "已授权"),
        "revoke" => (WorkerAction::RevokeAuthorisation, "已撤销授权"),
        "unbind" => (WorkerAction::Unbind, "已解绑"),
        _ => return HttpResponse::NotFound().finish(),
    };
    let Some(grid_id) = admin_grid_id(&state, person).await else {
        return redirect("/grid");
    };
    let command = CommandContext::new(services::auth::person_actor(person));
    let extras =
        match grids::manage_worker(&state.services, &command, person, &grid_id, &worker, action)
            .await
        {
            Ok(outcome) => {
                let _ = state.runner.wait_for(outcome.position(), state.wait).await;
                AdminExtras {
                    done: Some(done),
                    ..AdminExtras::default()
                }
            }
            Err(e) => AdminExtras {
                problems: Problems {
                    general: Some(messages::general(&e)),
                    ..Problems::default()
                },
                ..AdminExtras::default()
            },
        };
    admin_page(&ctx, &state, person, None, extras).await
}

/// The handover form as posted.
#[derive(Debug, Deserialize)]
pub struct HandoverForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    successor_name: String,
    #[serde(default)]
    successor_number: String,
}

/// `POST /grid/handover`: a one-time token for the named successor, with its QR.
pub async fn handover(
    req: HttpRequest,
    state: web::Data<PagesState>,
    input: web::Form<HandoverForm>,
) -> HttpResponse {
    let (ctx, person) = match signed_in_post(&req, &state, &input.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let Some(grid_id) = admin_grid_id(&state, person).await else {
        return redirect("/grid");
    };
    let command = CommandContext::new(services::auth::person_actor(person));
    let extras = match grids::offer_handover(
        &state.services,
        &command,
        person,
        &grid_id,
        &input.successor_name,
        "resident_id",
        input.successor_number.trim(),
    )
    .await
    {
        Ok(offered) => {
            let svg = qr::code_svg(&offered.token, QrColour::Green).unwrap_or_default();
            AdminExtras {
                handover: Some((offered.token, svg)),
                ..AdminExtras::default()
            }
        }
        Err(e) => AdminExtras {
            problems: Problems::of(&e),
            ..AdminExtras::default()
        },
    };
    admin_page(&ctx, &state, person, None, extras).await
}

/// The dissolution form as posted.
#[derive(Debug, Deserialize)]
pub struct DissolutionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirm_code: String,
}

/// `POST /grid/dissolution`: dissolves the grid, confirmed with its code.
pub async fn dissolve(
    req: HttpRequest,
    state: web::Data<PagesState>,
    input: web::Form<DissolutionForm>,
) -> HttpResponse {
    let (ctx, person) = match signed_in_post(&req, &state, &input.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let Some(grid_id) = admin_grid_id(&state, person).await else {
        return redirect("/grid");
    };
    let command = CommandContext::new(services::auth::person_actor(person));
    let extras = match grids::dissolve(
        &state.services,
        &command,
        person,
        &grid_id,
        input.confirm_code.trim(),
    )
    .await
    {
        Ok(outcome) => {
            let _ = state.runner.wait_for(outcome.position(), state.wait).await;
            AdminExtras {
                done: Some("网格已解散"),
                ..AdminExtras::default()
            }
        }
        Err(e) => AdminExtras {
            problems: Problems::of(&e),
            ..AdminExtras::default()
        },
    };
    admin_page(&ctx, &state, person, None, extras).await
}

/// `GET /grid/key-persons`: the admin's (or an authorised worker's, `?grid=`) key persons.
pub async fn key_persons(
    req: HttpRequest,
    state: web::Data<PagesState>,
    query: web::Query<GridQuery>,
) -> HttpResponse {
    let (ctx, person) = match signed_in(&req, &state).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let grid_id = match &query.grid {
        Some(grid) => Some(grid.clone()),
        None => admin_grid_id(&state, person).await,
    };
    let Some(grid_id) = grid_id else {
        return redirect("/grid");
    };
    let page = services::page::PageRequest {
        limit: 100,
        after: None,
    };
    let content = match grids::key_persons(&state.services, person, &grid_id, page).await {
        Ok(page) => html! {
            @if page.items.is_empty() { p { "暂无重点人员。" } }
            ul class="history" id="key-persons" {
                @for p in &page.items {
                    li class="card" {
                        strong { (p.name_masked) } " " (p.phone_masked) br;
                        (p.reason_labels.join("、"))
                        @if let Some(id) = p.person_id {
                            " " a href=(format!("/grid/persons/{id}/declarations?grid={grid_id}")) { "健康申报" }
                        }
                    }
                }
            }
        },
        Err(e) => layout::notice("bad", &messages::general(&e)),
    };
    ctx.page(layout::page(&ctx, "重点人员", content))
}

/// `?grid=`.
#[derive(Debug, Deserialize)]
pub struct GridQuery {
    grid: Option<String>,
}

fn scan_form(ctx: &Ctx, grid_id: &str, problems: &Problems) -> Markup {
    html! {
        form method="post" action=(format!("/grid/{grid_id}/scan")) class="card" novalidate {
            h2 { "扫码走访" }
            (csrf_field(ctx))
            (layout::code_field("居民的粤康码", "", problems.field("token"), "扫码"))
        }
        script src=(crate::assets::url("scan.js")) defer {}
    }
}

fn reading_fields(problems: &Problems) -> Markup {
    html! {
        (field("temperature", "体温（℃）", "", "text", problems.field("temperature_c"), Some("可不填")))
        fieldset class={ "field" @if problems.field("band").is_some() { " invalid" } } {
            legend { "体温情况" }
            label { input type="radio" name="band" value="normal" checked; " 正常" }
            label { input type="radio" name="band" value="fever"; " 发热" }
            @if let Some(e) = problems.field("band") { p class="error" role="alert" { (e) } }
        }
        fieldset class="field" {
            legend { "症状（可多选）" }
            @for symptom in Symptom::ALL {
                label { input type="checkbox" name="symptoms" value=(symptom.as_str()); " " (symptom_label(symptom)) }
            }
        }
        div class="field" {
            label for="notes" { "备注" }
            textarea id="notes" name="notes" {}
        }
    }
}

fn manual_form(ctx: &Ctx, grid_id: &str, problems: &Problems) -> Markup {
    html! {
        form method="post" action=(format!("/grid/{grid_id}/visit")) class="card" novalidate {
            h2 { "手工登记走访" }
            (csrf_field(ctx))
            input type="hidden" name="mode" value="manual";
            (field("name", "姓名", "", "text", problems.field("manual"), None))
            div class="field" {
                label for="doc_type" { "证件类型" }
                select id="doc_type" name="doc_type" {
                    option value="resident_id" { "居民身份证" }
                    option value="birth_certificate" { "出生医学证明" }
                    option value="hk_macao_permit" { "港澳居民来往内地通行证" }
                    option value="passport" { "护照" }
                }
            }
            (field("doc_number", "证件号码", "", "text", problems.field("document"), None))
            (field("phone", "手机号码", "", "tel", problems.field("phone"), Some("可不填")))
            (field("address", "住址", "", "text", problems.field("address"), None))
            (reading_fields(problems))
            button type="submit" id="record-manual" { "登记" }
        }
    }
}

/// `GET /grid/work`: the worker's grids, the current one first, with its scan and manual forms.
pub async fn work(
    req: HttpRequest,
    state: web::Data<PagesState>,
    query: web::Query<GridQuery>,
) -> HttpResponse {
    let (ctx, person) = match signed_in(&req, &state).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    worker_page(
        &ctx,
        &state,
        person,
        query.grid.as_deref(),
        &Problems::default(),
        None,
    )
    .await
}

async fn worker_page(
    ctx: &Ctx,
    state: &PagesState,
    person: domain::identity::PersonId,
    chosen: Option<&str>,
    problems: &Problems,
    done: Option<&str>,
) -> HttpResponse {
    let mine = grids::my_grids(&state.services, person)
        .await
        .unwrap_or_default();
    let current = chosen
        .and_then(|c| mine.iter().find(|g| g.grid_id == c))
        .or_else(|| mine.iter().find(|g| g.current))
        .or_else(|| mine.first());
    let refused = problems.general.is_some() || !problems.fields.is_empty();
    let content = html! {
        @if let Some(done) = done { div id="recorded" { (layout::notice("good", done)) } }
        @if let Some(general) = &problems.general { (layout::notice("bad", general)) }
        @if mine.is_empty() {
            p { "还没有绑定网格。请在“绑定”页面输入网格码。" }
        } @else {
            nav class="card actions" aria-label="我的网格" {
                @for g in &mine {
                    a href=(format!("/grid/work?grid={}", g.grid_id)) aria-current=[current.is_some_and(|c| c.grid_id == g.grid_id).then_some("page")] {
                        (g.name) "（" (status_label(&g.status)) @if g.authorised { "，已授权" } @if g.current { "，当前网格" } "）"
                    }
                    @if !g.current {
                        form method="post" action="/grid/current" class="inline" {
                            (csrf_field(ctx))
                            input type="hidden" name="grid_id" value=(g.grid_id);
                            button type="submit" class="link" { "设为当前网格" }
                        }
                    }
                }
            }
        }
        @if let Some(grid) = current {
            @if grid.authorised { p { a href=(format!("/grid/key-persons?grid={}", grid.grid_id)) { "重点人员" } } }
            (scan_form(ctx, &grid.grid_id, problems))
            (manual_form(ctx, &grid.grid_id, problems))
        }
    };
    answer(ctx, refused, "网格走访", content)
}

/// A form with a code token.
#[derive(Debug, Deserialize)]
pub struct ScanForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
}

/// `POST /grid/{grid_id}/scan`: the masked answer and the visit form on the scan.
pub async fn scan(
    req: HttpRequest,
    state: web::Data<PagesState>,
    grid_id: web::Path<String>,
    input: web::Form<ScanForm>,
) -> HttpResponse {
    let (ctx, person) = match signed_in_post(&req, &state, &input.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let Ok(grid) = uuid::Uuid::parse_str(&grid_id) else {
        return redirect("/grid/work");
    };
    let place = services::venues::ScanPlace {
        venue_id: None,
        grid_id: Some(grid),
        medical: false,
    };
    let command = CommandContext::new(services::auth::person_actor(person));
    let scanned = match state.services.limiter.take(
        services::limits::Action::Scan,
        &person.to_string(),
        state.services.now(),
    ) {
        Ok(()) => {
            services::venues::scan(&state.services, &command, person, input.token.trim(), place)
                .await
        }
        Err(e) => Err(e),
    };
    match scanned {
        Ok(outcome) => {
            let a = outcome.into_response();
            let (class, words) = layout::colour(a.colour);
            ctx.page(layout::page(&ctx, "走访", html! {
                section class={ "card code " (class) } {
                    p id="colour" class={ "colour " (class) } { (words) }
                    p { "姓名：" strong id="name" { (a.name_masked) } }
                    @if !a.reason_labels.is_empty() { p { "红码原因：" (a.reason_labels.join("、")) } }
                }
                @if a.fresh {
                    form method="post" action=(format!("/grid/{grid_id}/visit")) class="card" novalidate {
                        h2 { "登记走访" }
                        (csrf_field(&ctx))
                        input type="hidden" name="mode" value="scan";
                        input type="hidden" name="scan_id" value=(a.scan_id);
                        (reading_fields(&Problems::default()))
                        button type="submit" id="record-visit" { "登记" }
                    }
                } @else {
                    p class="notice" id="not-fresh" { "这是旧码（如截图或照片），只显示颜色和打码的身份。登记走访，请对方刷新粤康码后重新扫码。" }
                }
            }))
        }
        Err(error) => {
            let mut problems = Problems::of(&error);
            if let Some(general) = problems.general.take() {
                problems.fields.insert("token".into(), general);
            }
            worker_page(&ctx, &state, person, Some(&grid_id), &problems, None).await
        }
    }
}

/// `POST /grid/{grid_id}/visit`: a visit on a scan or entered by hand (repeated `symptoms`).
pub async fn visit(
    req: HttpRequest,
    state: web::Data<PagesState>,
    grid_id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let value = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let (ctx, person) = match signed_in_post(&req, &state, &value("csrf")).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let temperature = value("temperature");
    let temperature_c = match temperature.parse::<f64>() {
        Ok(t) => Some(t),
        Err(_) if temperature.is_empty() => None,
        Err(_) => {
            let mut problems = Problems::default();
            problems
                .fields
                .insert("temperature_c".into(), "请填写数字，例如 36.5".into());
            return worker_page(&ctx, &state, person, Some(&grid_id), &problems, None).await;
        }
    };
    let notes = value("notes");
    let manual = (value("mode") == "manual").then(|| ManualPersonInput {
        name: value("name"),
        document: services::feed::DocumentInput {
            kind: value("doc_type"),
            number: value("doc_number"),
        },
        phone: Some(value("phone")).filter(|p| !p.is_empty()),
        address: value("address"),
    });
    let input = VisitInput {
        scan_id: uuid::Uuid::parse_str(&value("scan_id")).ok(),
        manual,
        temperature_c,
        band: Some(value("band")).filter(|b| !b.is_empty()),
        symptoms: pairs
            .iter()
            .filter(|(k, _)| k == "symptoms")
            .map(|(_, v)| v.clone())
            .collect(),
        notes: (!notes.is_empty()).then_some(notes),
    };
    let command = CommandContext::new(services::auth::person_actor(person));
    match grids::record_visit(&state.services, &command, person, &grid_id, &input).await {
        Ok(outcome) => {
            let _ = state.runner.wait_for(outcome.position(), state.wait).await;
            worker_page(
                &ctx,
                &state,
                person,
                Some(&grid_id),
                &Problems::default(),
                Some("走访已登记"),
            )
            .await
        }
        Err(error) => {
            worker_page(
                &ctx,
                &state,
                person,
                Some(&grid_id),
                &Problems::of(&error),
                None,
            )
            .await
        }
    }
}

/// The current-grid form as posted.
#[derive(Debug, Deserialize)]
pub struct CurrentForm {
    #[serde(default)]
    csrf: String,
    grid_id: uuid::Uuid,
}

/// `POST /grid/current`: the worker's current grid.
pub async fn choose_current(
    req: HttpRequest,
    state: web::Data<PagesState>,
    input: web::Form<CurrentForm>,
) -> HttpResponse {
    let (ctx, person) = match signed_in_post(&req, &state, &input.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let command = CommandContext::new(services::auth::person_actor(person));
    let grid = input.grid_id.to_string();
    match grids::choose_current(&state.services, &command, person, input.grid_id).await {
        Ok(outcome) => {
            let _ = state.runner.wait_for(outcome.position(), state.wait).await;
            worker_page(
                &ctx,
                &state,
                person,
                Some(&grid),
                &Problems::default(),
                Some("已设为当前网格"),
            )
            .await
        }
        Err(e) => {
            let problems = Problems {
                general: Some(messages::general(&e)),
                ..Problems::default()
            };
            worker_page(&ctx, &state, person, Some(&grid), &problems, None).await
        }
    }
}

/// `GET /grid/persons/{person_id}/declarations?grid=`: all declarations of a person visited in
/// the grid, health facts only (the admin and authorised workers; recorded in their access log).
pub async fn person_declarations(
    req: HttpRequest,
    state: web::Data<PagesState>,
    visited: web::Path<String>,
    query: web::Query<GridQuery>,
) -> HttpResponse {
    let (ctx, person) = match signed_in(&req, &state).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let grid = query.grid.clone().unwrap_or_default();
    let page = services::page::PageRequest {
        limit: 100,
        after: None,
    };
    let content = match grids::person_declarations(&state.services, person, &grid, &visited, page)
        .await
    {
        Ok(page) => html! {
            @if page.items.is_empty() { p { "暂无健康申报。" } }
            ul class="history" id="declarations" {
                @for d in &page.items {
                    li class="card" {
                        strong { (d["filed_at"].as_str().unwrap_or("").replace('T', " ").get(..16).unwrap_or("")) }
                        " · 体温" @if d["band"] == "fever" { "发热" } @else { "正常" }
                        " · 症状：" (crate::declare::symptoms_text(&d["symptoms"]))
                    }
                }
            }
        },
        Err(e) => layout::notice("bad", &messages::general(&e)),
    };
    ctx.page(layout::page(&ctx, "健康申报记录", content))
}

/// The acceptance form as posted.
#[derive(Debug, Default, Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
}

/// The accept form, posting back to `action` (`/grid/accept` or `/venue/accept`).
fn accept_form(ctx: &Ctx, action: &str, problems: &Problems) -> Markup {
    html! {
        @if let Some(general) = &problems.general { (layout::notice("bad", general)) }
        form method="post" action=(action) class="card" novalidate {
            (csrf_field(ctx))
            (field("token", "移交码", "", "text", problems.field("handover_token"), Some("由原管理员提供，24 小时内有效")))
            button type="submit" id="accept" { "接收" }
        }
    }
}

/// The page title of the accept form at `path`.
fn accept_title(path: &str) -> &'static str {
    if path.starts_with("/venue") {
        "接收场所"
    } else {
        "接收网格"
    }
}

/// `GET /grid/accept`: the successor's form for a handover token.
pub async fn accept_page(req: HttpRequest, state: web::Data<PagesState>) -> HttpResponse {
    let (ctx, _) = match signed_in(&req, &state).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let path = req.path().to_owned();
    ctx.page(layout::page(
        &ctx,
        accept_title(&path),
        accept_form(&ctx, &path, &Problems::default()),
    ))
}

/// `POST /grid/accept`: the successor, signed in with the named document, becomes the admin.
pub async fn accept(
    req: HttpRequest,
    state: web::Data<PagesState>,
    input: web::Form<AcceptForm>,
) -> HttpResponse {
    let (ctx, person) = match signed_in_post(&req, &state, &input.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let command = CommandContext::new(services::auth::person_actor(person));
    let token = input.token.trim();
    // A venue's token or a grid's: each goes to its own use case and page.
    let (accepted, home) = if token.starts_with(services::venues::HANDOVER_TOKEN_PREFIX) {
        let accepted =
            services::venues::accept_handover(&state.services, &command, person, token).await;
        (accepted, "/venue")
    } else {
        let accepted = grids::accept_handover(&state.services, &command, person, token).await;
        (accepted, "/grid")
    };
    let path = req.path().to_owned();
    match accepted {
        Ok(outcome) => {
            let _ = state.runner.wait_for(outcome.position(), state.wait).await;
            redirect(home)
        }
        Err(e) => {
            let mut problems = Problems::of(&e);
            if problems.fields.is_empty() {
                if let Some(general) = problems.general.take() {
                    problems.fields.insert("handover_token".into(), general);
                }
            }
            answer(
                &ctx,
                true,
                accept_title(&path),
                accept_form(&ctx, &path, &problems),
            )
        }
    }
}
