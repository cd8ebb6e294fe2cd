//! The `Idempotency-Key` header of command routes, turned into the command pipeline's
//! [`IdempotencyKey`]: the key, and a digest of the request it came with (method, route
//! and body), so a retry must repeat the same request to get the first answer.

use actix_web::HttpRequest;
use commands::IdempotencyKey;

use crate::error::{ApiError, FieldError};

/// The header's name.
pub const HEADER: &str = "Idempotency-Key";

/// Longest accepted key.
pub const MAX_LEN: usize = 200;

/// Reads the header of `req` (whose body was `body`): none → `Ok(None)`; a key of 1 to 200
/// visible ASCII characters → `Ok(Some)`; anything else → 422 naming the header.
pub fn from_request(req: &HttpRequest, body: &[u8]) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = req.headers().get(HEADER) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| (1..=MAX_LEN).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::Validation(vec![FieldError {
                field: HEADER.into(),
                code: "idempotency.key_invalid".into(),
                detail: format!("an idempotency key is 1 to {MAX_LEN} visible ASCII characters"),
            }])
        })?;
    // The concrete path and query, not the route pattern: the same key on another resource
    // (`/v1/orgs/A` and `/v1/orgs/B`) is another request.
    let route = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path().to_owned(), ToString::to_string);
    let mut request = Vec::with_capacity(route.len() + body.len() + 16);
    request.extend_from_slice(req.method().as_str().as_bytes());
    request.push(b' ');
    request.extend_from_slice(route.as_bytes());
    request.push(b'\n');
    request.extend_from_slice(body);
    Ok(Some(IdempotencyKey::new(key, &request)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn absent_valid_and_invalid_keys() {
        let none = TestRequest::post().uri("/v1/x").to_http_request();
        assert!(from_request(&none, b"{}").expect("ok").is_none());

        let with_uri = |uri: &str, key: &str, body: &[u8]| {
            let req = TestRequest::post()
                .uri(uri)
                .insert_header((HEADER, key))
                .to_http_request();
            from_request(&req, body)
        };
        let with = |key: &str, body: &[u8]| with_uri("/v1/x", key, body);
        let a = with("retry-1", b"{\"a\":1}").expect("ok").expect("key");
        let again = with("retry-1", b"{\"a\":1}").expect("ok").expect("key");
        let other_body = with("retry-1", b"{\"a\":2}").expect("ok").expect("key");
        assert_eq!(a, again);
        assert_eq!(a.key, "retry-1");
        assert_ne!(a.request_hash, other_body.request_hash);
        let other_resource = with_uri("/v1/y", "retry-1", b"{\"a\":1}")
            .expect("ok")
            .expect("key");
        assert_ne!(
            a.request_hash, other_resource.request_hash,
            "the path counts"
        );

        for bad in ["", "has space", &"k".repeat(MAX_LEN + 1)] {
            match with(bad, b"{}") {
                Err(ApiError::Validation(errors)) => {
                    assert_eq!(errors[0].field, HEADER);
                    assert_eq!(errors[0].code, "idempotency.key_invalid");
                }
                other => panic!("{bad:?} should be refused, got {other:?}"),
            }
        }
    }
}
