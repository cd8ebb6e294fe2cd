//! Signing in and out. The identity provider's signed assertion is posted to `/login` (as the
//! real provider's page would); with `serve --dev`, a form mints a development assertion from
//! the document, name, phone and verification method typed in, so a newcomer can try every
//! role from the browser. Signing out clears the session cookie.

use actix_web::{web, HttpRequest, HttpResponse};
use crypto::assertion::{self, IdentityClaims};
use maud::{html, Markup};
use serde::Deserialize;

use crate::context::{forgery_checked, redirect, Ctx, SESSION_COOKIE};
use crate::gate::forged;
use crate::layout::{self, csrf_field, field};
use crate::messages::Problems;
use crate::PagesState;

/// The sign-in form as posted.
#[derive(Debug, Default, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: String,
    /// An assertion from the identity provider.
    #[serde(default)]
    assertion: String,
    #[serde(default)]
    doc_type: String,
    #[serde(default)]
    doc_number: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    method: String,
    /// The page to return to.
    #[serde(default)]
    next: String,
}

const DOC_TYPES: [(&str, &str); 3] = [
    ("resident_id", "居民身份证"),
    ("hk_macao_permit", "港澳居民来往内地通行证"),
    ("passport", "护照"),
];

const METHODS: [(&str, &str); 3] = [
    ("face", "人脸识别"),
    ("payment_password", "支付密码"),
    ("household", "户籍信息核验"),
];

fn form(ctx: &Ctx, input: &SignInForm, problems: &Problems) -> Markup {
    let content = html! {
        @if let Some(general) = &problems.general { (layout::notice("bad", general)) }
        @if ctx.dev {
            section class="card" {
                h2 { "开发模式登录" }
                p class="hint" { "开发模式：由内置的开发身份提供方代替实名认证（人脸识别等）。" }
                form method="post" action="/login" novalidate {
                    (csrf_field(ctx))
                    input type="hidden" name="next" value=(input.next);
                    div class="field" {
                        label for="doc_type" { "证件类型" }
                        select id="doc_type" name="doc_type" {
                            @for (value, label) in DOC_TYPES {
                                option value=(value) selected[input.doc_type == value] { (label) }
                            }
                        }
                    }
                    (field("doc_number", "证件号码", &input.doc_number, "text", problems.field("document"), None))
                    (field("name", "姓名", &input.name, "text", problems.field("name"), None))
                    (field("phone", "手机号码", &input.phone, "tel", problems.field("phone"), Some("可不填")))
                    div class="field" {
                        label for="method" { "认证方式" }
                        select id="method" name="method" {
                            @for (value, label) in METHODS {
                                option value=(value) selected[input.method == value] { (label) }
                            }
                        }
                    }
                    button type="submit" id="sign-in" { "登录" }
                }
            }
        }
        section class="card" {
            h2 { "使用身份认证凭证登录" }
            form method="post" action="/login" {
                (csrf_field(ctx))
                input type="hidden" name="next" value=(input.next);
                div class="field" {
                    label for="assertion" { "身份认证凭证" }
                    small class="hint" { "由实名认证服务签发" }
                    textarea id="assertion" name="assertion" {}
                }
                button type="submit" class="secondary" { "登录" }
            }
        }
    };
    layout::page(ctx, "登录粤康码", content)
}

/// What a development assertion says, as typed.
#[derive(Debug, Clone)]
pub struct DevClaims<'a> {
    pub doc_type: &'a str,
    pub doc_number: &'a str,
    pub name: &'a str,
    pub phone: Option<&'a str>,
    pub method: &'a str,
    /// `family:<guardian>` to add a family member; `None` to sign in.
    pub aud: Option<String>,
}

/// An assertion of the development provider (`serve --dev`), issued now, saying `claims`:
/// the server judges it as any other.
pub fn mint_dev(
    provider: &crypto::keys::DevProvider,
    state: &PagesState,
    claims: DevClaims<'_>,
) -> String {
    let iat = state.services.now().unix_timestamp();
    assertion::mint(
        provider,
        &IdentityClaims {
            iss: provider.issuer.clone(),
            jti: uuid::Uuid::new_v4().to_string(),
            iat,
            exp: iat + assertion::DEFAULT_LIFETIME_SECS,
            doc_type: claims.doc_type.to_owned(),
            doc_number: claims.doc_number.trim().to_owned(),
            name: claims.name.to_owned(),
            phone: claims.phone.map(str::to_owned),
            method: claims.method.to_owned(),
            sub: Some(assertion::dev_subject(
                claims.doc_type,
                claims.doc_number.trim(),
            )),
            aud: claims.aud,
        },
    )
}

/// `?next=`.
#[derive(Debug, Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

/// `GET /login`.
pub async fn page(
    req: HttpRequest,
    state: web::Data<PagesState>,
    query: web::Query<NextQuery>,
) -> HttpResponse {
    let ctx = Ctx::of(&req, &state).await;
    let next = crate::context::safe_next(&query.next).to_owned();
    if ctx.person.is_some() {
        return redirect(&next);
    }
    let input = SignInForm {
        next,
        ..SignInForm::default()
    };
    ctx.page(form(&ctx, &input, &Problems::default()))
}

/// `POST /login`: the assertion posted, or (dev) one minted from the form.
pub async fn submit(
    req: HttpRequest,
    state: web::Data<PagesState>,
    input: web::Form<SignInForm>,
) -> HttpResponse {
    let ctx = Ctx::of(&req, &state).await;
    if !forgery_checked(&req, &input.csrf) {
        return forged(&ctx);
    }
    let limited = state.services.limiter.take(
        services::limits::Action::SignIn,
        &crate::context::client(&req),
        state.services.now(),
    );
    if let Err(error) = limited {
        let problems = Problems::of(&error);
        return ctx.page_with(
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
            form(&ctx, &input, &problems),
        );
    }
    let assertion = if !input.assertion.trim().is_empty() {
        input.assertion.trim().to_owned()
    } else if let Some(provider) = &state.dev_provider {
        let phone = input.phone.trim();
        mint_dev(
            provider,
            &state,
            DevClaims {
                doc_type: &input.doc_type,
                doc_number: &input.doc_number,
                name: &input.name,
                phone: (!phone.is_empty()).then_some(phone),
                method: &input.method,
                aud: None,
            },
        )
    } else {
        let problems = Problems {
            general: Some("请粘贴身份认证凭证".into()),
            ..Problems::default()
        };
        return ctx.page_with(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            form(&ctx, &input, &problems),
        );
    };
    match services::citizens::log_in(&state.services, &assertion).await {
        Ok(session) => {
            let mut cookie = ctx.cookie(SESSION_COOKIE, session.token);
            let left = session.expires_at - state.services.now();
            cookie.set_max_age(actix_web::cookie::time::Duration::seconds(
                left.whole_seconds().max(0),
            ));
            let mut response = redirect(crate::context::safe_next(&input.next));
            if let Err(e) = response.add_cookie(&cookie) {
                tracing::warn!(error = %e, "could not set the session cookie");
            }
            response
        }
        Err(error) => {
            let mut problems = Problems::of(&error);
            if let services::ServiceError::Unauthenticated { detail, .. } = &error {
                problems.general = Some(format!("身份认证未通过：{detail}"));
            }
            ctx.page_with(
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
                form(&ctx, &input, &problems),
            )
        }
    }
}

/// `POST /logout`: the session cookie cleared.
pub async fn sign_out(
    req: HttpRequest,
    state: web::Data<PagesState>,
    input: web::Form<CsrfOnly>,
) -> HttpResponse {
    let ctx = Ctx::of(&req, &state).await;
    if !forgery_checked(&req, &input.csrf) {
        return forged(&ctx);
    }
    // The session ends for good, not only in this browser.
    if let Some(cookie) = req.cookie(SESSION_COOKIE) {
        if let Err(error) = services::citizens::sign_out(&state.services, cookie.value()).await {
            tracing::debug!(code = error.code(), "sign-out of an unusable session");
        }
    }
    let mut response = redirect("/login");
    let mut gone = ctx.cookie(SESSION_COOKIE, String::new());
    gone.make_removal();
    if let Err(e) = response.add_cookie(&gone) {
        tracing::warn!(error = %e, "could not clear the session cookie");
    }
    response
}

/// A form with nothing but its anti-forgery token.
#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub csrf: String,
}
