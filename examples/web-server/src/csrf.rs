//! CSRF protection of the HTML forms: the double-submit pattern.
//!
//! Every page gets a random token in an HttpOnly, `SameSite=Strict` cookie, and every form
//! echoes it in a hidden field. A POST is accepted only if both are there and equal
//! (compared in constant time). Another site can make a browser send the cookie (not with
//! `SameSite=Strict`, but older browsers), yet it cannot read it to fill in the field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use crate::error::HttpError;
use crate::{AppState, cookies};

/// The name of the cookie that holds the token.
pub(crate) const COOKIE: &str = "renraku_csrf";

/// The CSRF token of the current request, for the forms of its page.
#[derive(Debug, Clone)]
pub(crate) struct CsrfToken(pub(crate) String);

/// 32 random bytes from the operating system, in hex.
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random number generator works");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn is_well_formed(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The token of the request's cookie, if it has a well-formed one.
pub(crate) fn cookie_token(headers: &HeaderMap) -> Option<String> {
    CookieJar::from_headers(headers).get(COOKIE).map(|c| c.value().to_owned()).filter(|t| is_well_formed(t))
}

/// Middleware of the HTML pages: makes sure the browser has a token, and hands it to the
/// handlers as a [`CsrfToken`] extension.
pub(crate) async fn ensure_token(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let (token, is_new) = match cookie_token(request.headers()) {
        Some(token) => (token, false),
        None => (new_token(), true),
    };
    request.extensions_mut().insert(CsrfToken(token.clone()));
    let mut response = next.run(request).await;
    if is_new {
        cookies::append(response.headers_mut(), cookies::cookie(COOKIE, token, state.secure_cookies()));
    }
    response
}

/// The hidden form field `csrf_token` that echoes the cookie.
#[derive(Deserialize)]
struct Field {
    csrf_token: Option<String>,
}

/// A URL-encoded form whose CSRF token was checked: a missing or wrong token answers 403
/// before the form is read. `T` must not deny unknown fields (the token is one).
#[derive(Debug)]
pub(crate) struct CsrfForm<T>(pub(crate) T);

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = HttpError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let expected = cookie_token(request.headers());
        let is_form = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        // The body limit applies here: a larger body is a 413.
        let body = Bytes::from_request(request, state).await.map_err(HttpError::from)?;
        let sent = if is_form {
            serde_urlencoded::from_bytes::<Field>(&body).ok().and_then(|f| f.csrf_token)
        } else {
            None
        };
        let valid = match (&expected, &sent) {
            (Some(expected), Some(sent)) => bool::from(expected.as_bytes().ct_eq(sent.as_bytes())),
            _ => false,
        };
        if !valid {
            return Err(HttpError::csrf());
        }
        serde_urlencoded::from_bytes::<T>(&body).map(Self).map_err(|_| {
            HttpError::bad_request("The form could not be read. Please reload the page and try again.")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_well_formed() {
        let (a, b) = (new_token(), new_token());
        assert!(is_well_formed(&a) && is_well_formed(&b));
        assert_ne!(a, b);
        assert!(!is_well_formed("short"));
        assert!(!is_well_formed(&"g".repeat(64)));
    }
}
