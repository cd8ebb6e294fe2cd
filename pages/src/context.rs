//! Who is looking at a page and the anti-forgery token their forms carry.
//!
//! The session is the API's session token in an HttpOnly, `SameSite=Strict` cookie (`Secure`
//! when served over TLS). Forgery is refused twice over: every form carries the value of a
//! random `yk_csrf` cookie (double submit: another site can neither read nor set it), and a
//! request whose `Origin` names another host is refused.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use domain::identity::PersonId;
use maud::Markup;
use services::auth::Principal;

use crate::PagesState;

/// The session cookie (the API's session token).
pub const SESSION_COOKIE: &str = "yk_session";
/// The anti-forgery cookie.
pub const CSRF_COOKIE: &str = "yk_csrf";

/// A request's page context: the signed-in person (if any) and the anti-forgery token.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub person: Option<PersonId>,
    pub csrf: String,
    /// Whether the anti-forgery cookie must be set with the answer (it was missing).
    new_csrf: bool,
    secure: bool,
    pub dev: bool,
}

fn random_token() -> String {
    let mut bytes = [0u8; 24];
    // Without randomness no token can be trusted: better no page than a guessable token.
    getrandom::getrandom(&mut bytes).expect("the operating system's random source");
    hex::encode(bytes)
}

/// Whether the request came over TLS (directly, or as a proxy in front says).
fn is_secure(req: &HttpRequest) -> bool {
    req.connection_info().scheme() == "https"
}

impl Ctx {
    /// The context of `req`: the session cookie authenticated (an unknown or expired one
    /// counts as signed out).
    pub async fn of(req: &HttpRequest, state: &PagesState) -> Self {
        let person = match req.cookie(SESSION_COOKIE) {
            Some(cookie) => {
                match services::auth::authenticate(&state.services, cookie.value()).await {
                    Ok(Principal::Person { person_id }) => Some(person_id),
                    Ok(Principal::ServiceAccount { .. }) | Err(_) => None,
                }
            }
            None => None,
        };
        let (csrf, new_csrf) = match req.cookie(CSRF_COOKIE) {
            Some(c) if c.value().len() == 48 => (c.value().to_owned(), false),
            _ => (random_token(), true),
        };
        Self {
            person,
            csrf,
            new_csrf,
            secure: is_secure(req),
            dev: state.dev_provider.is_some(),
        }
    }

    /// A cookie as the pages set them.
    pub fn cookie(&self, name: &'static str, value: String) -> Cookie<'static> {
        Cookie::build(name, value)
            .path("/")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(self.secure)
            .finish()
    }

    /// `200` with the page, the security headers, and the anti-forgery cookie when new.
    pub fn page(&self, markup: Markup) -> HttpResponse {
        let mut response = HttpResponse::Ok();
        self.headers(&mut response);
        response.body(markup.into_string())
    }

    /// The answer `status` with the page.
    pub fn page_with(&self, status: actix_web::http::StatusCode, markup: Markup) -> HttpResponse {
        let mut response = HttpResponse::build(status);
        self.headers(&mut response);
        response.body(markup.into_string())
    }

    fn headers(&self, response: &mut actix_web::HttpResponseBuilder) {
        response
            .content_type("text/html; charset=utf-8")
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                 connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .insert_header((header::REFERRER_POLICY, "same-origin"));
        if self.new_csrf {
            response.cookie(self.cookie(CSRF_COOKIE, self.csrf.clone()));
        }
    }
}

/// `raw` percent-encoded for a query value.
pub fn url_escape(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Where to go after signing in: a path on this server (never another host). Anything but a
/// plain absolute path of visible ASCII characters — no `//` or `/\` start, no control
/// character or space a browser would drop to make `//host` — goes home instead.
pub fn safe_next(next: &str) -> &str {
    let plain = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    if plain {
        next
    } else {
        "/"
    }
}

/// The client's address, the key of the per-address rate limits.
pub fn client(req: &HttpRequest) -> String {
    req.peer_addr()
        .map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string())
}

/// `303 See Other` to `to`.
pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

/// Whether a state-changing request may proceed: its form's token equals the anti-forgery
/// cookie, and its `Origin`, when sent, is this server.
pub fn forgery_checked(req: &HttpRequest, form_token: &str) -> bool {
    let cookie_ok = req
        .cookie(CSRF_COOKIE)
        .is_some_and(|c| !form_token.is_empty() && constant_time_eq(c.value(), form_token));
    let origin_ok = match req.headers().get(header::ORIGIN) {
        None => true,
        Some(origin) => {
            let host = req.connection_info().host().to_owned();
            origin.to_str().ok().is_some_and(|o| {
                o.strip_prefix("http://")
                    .or_else(|| o.strip_prefix("https://"))
                    .is_some_and(|h| h == host)
            })
        }
    };
    cookie_ok && origin_ok
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn a_form_must_repeat_the_cookie_and_come_from_here() {
        let token = "a".repeat(48);
        let req = |origin: Option<&str>| {
            let mut r = TestRequest::post()
                .uri("/venue")
                .insert_header((header::HOST, "127.0.0.1:8080"))
                .cookie(Cookie::new(CSRF_COOKIE, token.clone()));
            if let Some(o) = origin {
                r = r.insert_header((header::ORIGIN, o));
            }
            r.to_http_request()
        };
        assert!(forgery_checked(&req(None), &token));
        assert!(forgery_checked(&req(Some("http://127.0.0.1:8080")), &token));
        assert!(!forgery_checked(&req(Some("http://evil.example")), &token));
        assert!(!forgery_checked(&req(None), ""));
        assert!(!forgery_checked(&req(None), &"b".repeat(48)));
        let without_cookie = TestRequest::post().uri("/venue").to_http_request();
        assert!(!forgery_checked(&without_cookie, &token));
    }

    #[test]
    fn after_signing_in_only_a_page_of_this_server() {
        assert_eq!(safe_next("/checkin?t=YKP1.a"), "/checkin?t=YKP1.a");
        for elsewhere in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "",
            "javascript:x",
        ] {
            assert_eq!(safe_next(elsewhere), "/", "{elsewhere}");
        }
        let req = TestRequest::get()
            .uri("/checkin?t=YKP1.a%2Bb")
            .to_http_request();
        let response = crate::gate::to_sign_in(&req);
        assert_eq!(
            response
                .headers()
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok()),
            Some("/login?next=/checkin%3Ft%3DYKP1.a%252Bb")
        );
    }
}
