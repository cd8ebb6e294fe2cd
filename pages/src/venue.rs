//! The venue admin's pages: registering the venue, the day's figures with charts and a date
//! picker, the inspectors' counts, and the poster to print (A4, the QR a phone opens to check
//! in).

use actix_web::{web, HttpRequest, HttpResponse};
use commands::CommandContext;
use crypto::qr::{self, QrColour};
use maud::{html, Markup, PreEscaped};
use serde::Deserialize;
use services::venues::{self, AdminAction, VenueInput};

use crate::charts;
use crate::context::{redirect, Ctx};
use crate::gate::{signed_in, signed_in_post};
use crate::layout::{self, csrf_field, field};
use crate::messages::{self, Problems};
use crate::PagesState;

/// The venue types and their names in the guide's terms.
pub const TYPES: [(&str, &str); 9] = [
    ("residential", "住宅小区"),
    ("office", "办公场所"),
    ("retail", "商场超市"),
    ("dining", "餐饮场所"),
    ("lodging", "住宿场所"),
    ("entertainment", "娱乐场所"),
    ("sports", "体育场馆"),
    ("transport", "交通场站"),
    ("other", "其他"),
];

/// The registration form as posted.
#[derive(Debug, Default, Deserialize)]
pub struct VenueForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    address: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    phone: String,
}

fn create_form(ctx: &Ctx, input: &VenueForm, problems: &Problems, said: Option<Markup>) -> Markup {
    layout::page(
        ctx,
        "登记公共场所",
        html! {
            @if let Some(said) = said { (said) }
            @if let Some(general) = &problems.general { (layout::notice("bad", general)) }
            form method="post" action="/venue" class="card" novalidate {
                (csrf_field(ctx))
                (field("name", "场所名称", &input.name, "text", problems.field("name"), None))
                div class={ "field" @if problems.field("type").is_some() { " invalid" } } {
                    label for="type" { "场所类型" }
                    select id="type" name="type" {
                        @for (value, label) in TYPES {
                            option value=(value) selected[input.kind == value] { (label) }
                        }
                    }
                    @if let Some(e) = problems.field("type") { p class="error" role="alert" { (e) } }
                }
                (field("region", "所在镇（街道）区划代码", &input.region, "text", problems.field("region"),
                    Some("9 位数字，例如 440305001")))
                (field("address", "详细地址", &input.address, "text", problems.field("address"), None))
                (field("phone", "管理员手机号码", &input.phone, "tel", problems.field("phone"), None))
                button type="submit" id="register" { "登记" }
            }
        },
    )
}

/// `GET /venue`: the admin's venue for a day, or the form to register one.
pub async fn page(
    req: HttpRequest,
    state: web::Data<PagesState>,
    query: web::Query<layout::DayQuery>,
) -> HttpResponse {
    let (ctx, person) = match signed_in(&req, &state).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    dashboard(&ctx, &state, person, query.date.as_deref(), None).await
}

async fn dashboard(
    ctx: &Ctx,
    state: &PagesState,
    person: domain::identity::PersonId,
    date: Option<&str>,
    said: Option<(&'static str, String)>,
) -> HttpResponse {
    let ctx = ctx.clone();
    let services = &state.services;
    let mine = match projections::venues::of_admin(&services.db, &person.to_string()).await {
        Ok(mine) => mine,
        Err(e) => return failure(&ctx, &services::ServiceError::internal(e)),
    };
    let Some(venue) = mine else {
        let said = said.map(|(class, text)| layout::notice(class, &text));
        return ctx.page(create_form(
            &ctx,
            &VenueForm::default(),
            &Problems::default(),
            said,
        ));
    };
    let asked = services::calendar::asked_day(date.filter(|d| !d.is_empty()), services.now());
    let (day, problems) = match asked {
        Ok(day) => (day, Problems::default()),
        Err(e) => (domain::week::today(services.now()), Problems::of(&e)),
    };
    let stats = match venues::authorize_admin(
        services,
        &venue.venue_id,
        person,
        AdminAction::SeeStatistics,
    )
    .await
    {
        Ok(admin) => venues::stats(services, &admin, day).await,
        Err(e) => Err(e),
    };
    let stats = match stats {
        Ok(stats) => stats,
        Err(e) => return failure(&ctx, &e),
    };
    let f = &stats.figures;
    let roster = match venues::authorize_admin(
        services,
        &venue.venue_id,
        person,
        AdminAction::ListInspectors,
    )
    .await
    {
        Ok(admin) => venues::inspectors(
            services,
            &admin,
            services::page::PageRequest {
                limit: 500,
                after: None,
            },
        )
        .await
        .map(|p| p.items)
        .unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let kind = TYPES
        .iter()
        .find(|(v, _)| *v == venue.venue_type)
        .map_or(venue.venue_type.as_str(), |(_, l)| l);
    let hourly: Vec<(String, i64)> = f
        .hourly
        .iter()
        .enumerate()
        .map(|(h, n)| (h.to_string(), *n))
        .collect();
    let content = html! {
        @if let Some((class, text)) = &said { div id="said" { (layout::notice(class, text)) } }
        section class="card" {
            p { strong { (venue.name) } " · " (kind) }
            p { "场所绑定码（检测员绑定用）：" strong id="venue-code" { (venue.code) } }
            p class="actions" {
                a class="button" href="/venue/poster" { "打印场所码海报" }
            }
        }
        (layout::date_picker("/venue", &day.to_string(), problems.field("date")))
        section aria-labelledby="today" {
            h2 id="today" { (day.to_string()) " 数据" }
            div class="figures" {
                (layout::figure("checks-today", "当日检测人次", f.checks_today))
                (layout::figure("persons-today", "当日检测人数", f.persons_today))
                (layout::figure("fever-today", "当日发热人数", f.fever_today))
                (layout::figure("checks-total", "累计检测人次", f.checks_total))
                (layout::figure("fever-total", "累计发热人数", f.fever_total))
            }
            div class="two" {
                (charts::bars("hourly", "各时段检测人次", &hourly))
                (charts::bars("sex", "性别（人）", &[("男".into(), f.sex.0), ("女".into(), f.sex.1)]))
                (charts::bars("age", "年龄段（人）", &[
                    ("0-17".into(), f.age_bands[0]),
                    ("18-39".into(), f.age_bands[1]),
                    ("40-59".into(), f.age_bands[2]),
                    ("60+".into(), f.age_bands[3]),
                ]))
                (charts::bars("fever", "体温（人）", &[
                    ("正常".into(), (f.persons_today - f.fever_today).max(0)),
                    ("发热".into(), f.fever_today),
                ]))
            }
        }
        section class="card" {
            h2 { "检测员名单" }
            @if roster.is_empty() { p { "还没有检测员。" } }
            ul id="inspectors" {
                @for i in &roster {
                    li {
                        (i.name_masked) " "
                        form method="post" action=(format!("/venue/inspectors/{}/unbind", i.person_id)) class="inline" {
                            (csrf_field(&ctx))
                            button type="submit" class="link" { "解绑" }
                        }
                    }
                }
            }
        }
        section class="card" {
            h2 { "修改场所信息" }
            p class="hint" { "场所信息每个自然周（周一至周日）只能修改一次。" }
            form method="post" action="/venue/edit" novalidate {
                (csrf_field(&ctx))
                (field("name", "场所名称", &venue.name, "text", None, None))
                div class="field" {
                    label for="type" { "场所类型" }
                    select id="type" name="type" {
                        @for (value, label) in TYPES {
                            option value=(value) selected[venue.venue_type == value] { (label) }
                        }
                    }
                }
                (field("region", "所在镇（街道）区划代码", &venue.region, "text", None, None))
                (field("address", "详细地址", &venue.address, "text", None, None))
                (field("phone", "新的管理员手机号码", "", "tel", None, Some("不修改请留空")))
                button type="submit" class="secondary" id="edit" { "保存修改" }
            }
        }
        section class="card" {
            h2 { "移交场所" }
            p class="hint" { "生成移交码交给接任者；接任者用本人证件登录后，在“接收移交”页面（/venue/accept）输入移交码，接收后成为场所管理员，您将不再管理此场所。" }
            form method="post" action="/venue/handover" novalidate {
                (csrf_field(&ctx))
                (field("successor", "接任者居民身份证号码", "", "text", None, None))
                button type="submit" class="secondary" id="hand-over" { "生成移交码" }
            }
        }
        section class="card" {
            h2 { "检测员" }
            @if stats.inspectors.is_empty() {
                p { "还没有检测员。请把场所绑定码告诉检测员，由其在“检测员”页面绑定。" }
            } @else {
                table {
                    thead { tr { th { "检测员" } th { "当日" } th { "累计" } } }
                    tbody {
                        @for i in &stats.inspectors {
                            tr { td { (i.inspector.get(..8).unwrap_or(&i.inspector)) "…" } td { (i.today) } td { (i.total) } }
                        }
                    }
                }
            }
        }
    };
    ctx.page(layout::page(&ctx, "场所管理", content))
}

fn failure(ctx: &Ctx, error: &services::ServiceError) -> HttpResponse {
    ctx.page(layout::page(
        ctx,
        "场所管理",
        layout::notice("bad", &messages::general(error)),
    ))
}

/// `POST /venue`: registers the venue.
pub async fn create(
    req: HttpRequest,
    state: web::Data<PagesState>,
    input: web::Form<VenueForm>,
) -> HttpResponse {
    let (ctx, person) = match signed_in_post(&req, &state, &input.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let venue = VenueInput {
        region: input.region.clone(),
        address: input.address.clone(),
        kind: input.kind.clone(),
        name: input.name.clone(),
        phone: input.phone.clone(),
    };
    let ctx_cmd = CommandContext::new(services::auth::person_actor(person));
    match venues::create(&state.services, &ctx_cmd, person, &venue).await {
        Ok(outcome) => {
            let _ = state.runner.wait_for(outcome.position(), state.wait).await;
            redirect("/venue")
        }
        Err(error) => ctx.page_with(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            create_form(&ctx, &input, &Problems::of(&error), None),
        ),
    }
}

/// `GET /venue/poster`: the poster to print, its QR opening the quick check-in page.
pub async fn poster(req: HttpRequest, state: web::Data<PagesState>) -> HttpResponse {
    let (ctx, person) = match signed_in(&req, &state).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let services = &state.services;
    let venue = match projections::venues::of_admin(&services.db, &person.to_string()).await {
        Ok(Some(venue)) => venue,
        Ok(None) => return redirect("/venue"),
        Err(e) => return failure(&ctx, &services::ServiceError::internal(e)),
    };
    let token = match venues::poster(services, person, &venue.venue_id).await {
        Ok(token) => token,
        Err(e) => return failure(&ctx, &e),
    };
    let info = req.connection_info();
    let link = format!("{}://{}/checkin?t={}", info.scheme(), info.host(), token);
    let svg = qr::code_svg(&link, QrColour::Green).unwrap_or_default();
    let content = html! {
        section class="card poster" {
            p class="colour green" { "体温正常快速打卡" }
            p { strong { (venue.name) } }
            div class="qr" { (PreEscaped(svg)) }
            p { "请使用手机扫描上方二维码，登录粤康码后一键打卡。" }
            p class="hint no-print" { "使用浏览器的“打印”功能打印本页（A4）。" }
        }
    };
    ctx.page(layout::page(&ctx, "场所码海报", content))
}

/// The edit form as posted.
#[derive(Debug, Deserialize)]
pub struct EditForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    phone: String,
}

async fn admin_permit(
    state: &PagesState,
    person: domain::identity::PersonId,
    action: AdminAction,
) -> Result<(projections::venues::VenueRow, venues::VenueAdmin), services::ServiceError> {
    let venue = projections::venues::of_admin(&state.services.db, &person.to_string())
        .await
        .map_err(services::ServiceError::internal)?
        .ok_or_else(|| services::ServiceError::not_found("venue.unknown", "no venue"))?;
    let permit = venues::authorize_admin(&state.services, &venue.venue_id, person, action).await?;
    Ok((venue, permit))
}

/// `POST /venue/edit`: changes what differs from the details shown.
pub async fn edit(
    req: HttpRequest,
    state: web::Data<PagesState>,
    input: web::Form<EditForm>,
) -> HttpResponse {
    let (ctx, person) = match signed_in_post(&req, &state, &input.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let command = CommandContext::new(services::auth::person_actor(person));
    let edited = match admin_permit(&state, person, AdminAction::Edit).await {
        Ok((venue, permit)) => {
            let changed = |new: &str, old: &str| {
                (new.trim() != old && !new.trim().is_empty()).then(|| new.trim().to_owned())
            };
            let patch = venues::VenuePatch {
                region: changed(&input.region, &venue.region),
                address: changed(&input.address, &venue.address),
                kind: changed(&input.kind, &venue.venue_type),
                name: changed(&input.name, &venue.name),
                phone: changed(&input.phone, ""),
            };
            venues::edit(&state.services, &command, permit, &patch).await
        }
        Err(e) => Err(e),
    };
    let said = match edited {
        Ok(outcome) => {
            let _ = state.runner.wait_for(outcome.position(), state.wait).await;
            ("good", "已保存".to_owned())
        }
        Err(e) => ("bad", problem_sentence(&e)),
    };
    dashboard(&ctx, &state, person, None, Some(said)).await
}

/// One sentence for a refusal: the fields' messages, or the rule's.
fn problem_sentence(error: &services::ServiceError) -> String {
    let problems = Problems::of(error);
    problems.general.unwrap_or_else(|| {
        problems
            .fields
            .values()
            .cloned()
            .collect::<Vec<_>>()
            .join("；")
    })
}

/// The handover form as posted.
#[derive(Debug, Deserialize)]
pub struct HandoverForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    successor: String,
}

/// `POST /venue/handover`: a one-time token for the named successor, who accepts it at
/// `/venue/accept` and becomes the venue's admin.
pub async fn hand_over(
    req: HttpRequest,
    state: web::Data<PagesState>,
    input: web::Form<HandoverForm>,
) -> HttpResponse {
    let (ctx, person) = match signed_in_post(&req, &state, &input.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let command = CommandContext::new(services::auth::person_actor(person));
    let handed = match admin_permit(&state, person, AdminAction::HandOver).await {
        Ok((_, permit)) => {
            venues::offer_handover(
                &state.services,
                &command,
                permit,
                "resident_id",
                input.successor.trim(),
            )
            .await
        }
        Err(e) => Err(e),
    };
    match handed {
        Ok(offered) => {
            let svg = qr::code_svg(&offered.token, QrColour::Green).unwrap_or_default();
            let expires = domain::week::cst_rfc3339(offered.expires_at);
            ctx.page(layout::page(
                &ctx,
                "移交场所",
                html! {
                    (layout::notice("good", "请把下面的移交码交给接任者，24 小时内有效，仅显示一次；接任者接收前，您仍是场所管理员。"))
                    section class="card" {
                        div class="qr" { (PreEscaped(svg)) }
                        p { code id="handover-token" { (offered.token) } }
                        p class="hint" { "有效期至 " (expires.get(..16).unwrap_or("").replace('T', " ")) "。接任者登录后打开 /venue/accept 输入移交码。" }
                        p { a href="/venue" { "返回我的场所" } }
                    }
                },
            ))
        }
        Err(e) => {
            dashboard(
                &ctx,
                &state,
                person,
                None,
                Some(("bad", problem_sentence(&e))),
            )
            .await
        }
    }
}

/// `POST /venue/inspectors/{person_id}/unbind`.
pub async fn unbind(
    req: HttpRequest,
    state: web::Data<PagesState>,
    inspector: web::Path<String>,
    input: web::Form<crate::sign_in::CsrfOnly>,
) -> HttpResponse {
    let (ctx, person) = match signed_in_post(&req, &state, &input.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let command = CommandContext::new(services::auth::person_actor(person));
    let unbound = match admin_permit(&state, person, AdminAction::UnbindInspectors).await {
        Ok((_, permit)) => {
            venues::unbind_inspector(&state.services, &command, permit, &inspector).await
        }
        Err(e) => Err(e),
    };
    let said = match unbound {
        Ok(outcome) => {
            let _ = state.runner.wait_for(outcome.position(), state.wait).await;
            ("good", "已解绑".to_owned())
        }
        Err(e) => ("bad", problem_sentence(&e)),
    };
    dashboard(&ctx, &state, person, None, Some(said)).await
}
