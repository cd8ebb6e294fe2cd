//! The gates a page passes before it does anything: signed in (else the sign-in page, which
//! comes back afterwards), and, for a form post, the anti-forgery check (else `403`).

use actix_web::{HttpRequest, HttpResponse};
use domain::identity::PersonId;
use maud::html;

use crate::context::{forgery_checked, redirect, url_escape, Ctx};
use crate::layout;
use crate::PagesState;

/// The signed-in person's page context, or the answer that ends the request (`303` to the
/// sign-in page).
pub async fn signed_in(
    req: &HttpRequest,
    state: &PagesState,
) -> Result<(Ctx, PersonId), HttpResponse> {
    let ctx = Ctx::of(req, state).await;
    match ctx.person {
        Some(person) => Ok((ctx, person)),
        None => Err(to_sign_in(req)),
    }
}

/// As [`signed_in`], for a form post carrying `form_token`: `403` when it fails the
/// anti-forgery check.
pub async fn signed_in_post(
    req: &HttpRequest,
    state: &PagesState,
    form_token: &str,
) -> Result<(Ctx, PersonId), HttpResponse> {
    let (ctx, person) = signed_in(req, state).await?;
    if !forgery_checked(req, form_token) {
        return Err(forged(&ctx));
    }
    Ok((ctx, person))
}

/// `303` to the sign-in page, which comes back to the page asked for (a GET) afterwards: a
/// poster's QR opens the check-in page again once the person has signed in.
pub fn to_sign_in(req: &HttpRequest) -> HttpResponse {
    if req.method() != actix_web::http::Method::GET || req.path() == "/" {
        return redirect("/login");
    }
    let back = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    redirect(&format!("/login?next={}", url_escape(&back)))
}

/// `403` for a request that failed the anti-forgery check.
pub fn forged(ctx: &Ctx) -> HttpResponse {
    ctx.page_with(
        actix_web::http::StatusCode::FORBIDDEN,
        layout::page(
            ctx,
            "请求已过期",
            html! {
                (layout::notice("bad", "为了您的安全，这个请求被拒绝了（csrf.refused）。请返回上一页，刷新后重试。"))
                p { a href="/" { "返回首页" } }
            },
        ),
    )
}
