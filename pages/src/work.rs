//! 我的工作台: the pages of the roles the person holds (from their roles), and the way to
//! take on one (registering a venue, binding with a code).

use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;

use crate::gate::signed_in;
use crate::layout;
use crate::messages;
use crate::PagesState;

/// `GET /work`.
pub async fn page(req: HttpRequest, state: web::Data<PagesState>) -> HttpResponse {
    let (ctx, person) = match signed_in(&req, &state).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let me = match services::citizens::me(&state.services, person).await {
        Ok(me) => me,
        Err(error) => {
            return ctx.page(layout::page(
                &ctx,
                "我的工作台",
                layout::notice("bad", &messages::general(&error)),
            ))
        }
    };
    let has = |role: &str| me.roles.iter().any(|r| r.role == role);
    let content = html! {
        ul class="history" id="roles" {
            li class="card" {
                a href="/venue" { @if has("venue_admin") { "场所管理：数据、海报、检测员" } @else { "登记公共场所" } }
            }
            li class="card" {
                a href="/org" { @if has("org_admin") { "组织机构管理：申报数据、下载、修改" } @else { "登记组织机构" } }
            }
            @if has("venue_inspector") { li class="card" { a href="/inspect" { "检测员：查验粤康码、记录体温" } } }
            @if has("medical_staff") {
                li class="card" { a href="/medical" { "医护人员：出具解除医学观察电子告知书" } }
                li class="card" { a href="/medical/issued" { "已出具的电子告知书" } }
            }
            @if has("auditor") || has("analyst") { li class="card" { a href="/audit" { "审计与分析" } } }
            li class="card" {
                a href="/grid" { @if has("grid_admin") { "网格管理：数据、网格员、重点人员、移交、解散" } @else { "创建网格" } }
            }
            @if has("grid_worker") { li class="card" { a href="/grid/work" { "网格员：扫码走访、手工登记" } } }
            @if has("region_admin") { li class="card" { a href="/region" { "区域管理：确认网格、网格数据、任命下级管理员" } } }
        }
        p { a href="/bind" { "用绑定码成为组织成员、场所检测员或网格员" } }
    };
    ctx.page(layout::page(&ctx, "我的工作台", content))
}
