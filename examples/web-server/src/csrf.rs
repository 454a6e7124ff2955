//! CSRF protection of the HTML forms: a double-submit cookie whose form token is bound to
//! the session, and a check of where the request comes from.
//!
//! - Every page gets a random value in an HttpOnly, `SameSite=Strict` cookie (named
//!   `__Host-renraku_csrf` when cookies are `Secure`, so that no subdomain and no plain-HTTP
//!   page can set it).
//! - The forms carry not that value but the token HMAC-SHA256(key, cookie value, SHA-256 of
//!   the session cookie), under a key made at random when the server starts. A cookie that
//!   another site (or subdomain) planted does not help it: without the key it cannot make
//!   the matching token, and a token made for one session does not pass with another.
//! - A POST is refused (403) unless the form's token is the one of its cookies (compared in
//!   constant time), and also when the browser says it comes from elsewhere:
//!   `Sec-Fetch-Site` other than `same-origin` or `none`, or an `Origin` whose host is not
//!   the request's `Host`. `Origin: null` is no sign of another site here: every page has
//!   `Referrer-Policy: no-referrer`, with which browsers send it for the page's own forms.
//!
//! A restart makes a new key, so forms loaded before it answer 403 once ("reload the page").

use std::fmt;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::HttpError;
use crate::{AppState, cookies};

/// The name of the cookie that holds the random value on plain HTTP.
pub(crate) const COOKIE: &str = "renraku_csrf";

/// The name of the cookie with `Secure` cookies: `__Host-` binds it to this host, path `/`.
pub(crate) const SECURE_COOKIE: &str = "__Host-renraku_csrf";

/// The cookie's name for the server's cookie setting.
pub(crate) fn cookie_name(secure: bool) -> &'static str {
    if secure { SECURE_COOKIE } else { COOKIE }
}

/// The key of the form tokens: 32 random bytes, made when the state is made.
pub(crate) struct Key([u8; 32]);

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key([redacted])")
    }
}

impl Key {
    pub(crate) fn generate() -> Self {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the operating system's random number generator works");
        Self(bytes)
    }

    /// The form token for the cookie value `cookie` of a request with these headers.
    fn form_token(&self, cookie: &str, headers: &HeaderMap, secure: bool) -> String {
        let session = crate::auth::session_cookie(headers, secure).unwrap_or_default();
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(b"renraku-csrf-v1\0");
        mac.update(cookie.as_bytes());
        mac.update(b"\0");
        mac.update(&Sha256::digest(session.as_bytes()));
        hex(&mac.finalize().into_bytes())
    }
}

/// The form token of the current request, for the forms of its page.
#[derive(Debug, Clone)]
pub(crate) struct CsrfToken(pub(crate) String);

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(2 * bytes.len()), |mut hex, b| {
        let _ = write!(hex, "{b:02x}"); // writing to a String cannot fail
        hex
    })
}

/// 32 random bytes from the operating system, in hex.
fn new_cookie_value() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random number generator works");
    hex(&bytes)
}

fn is_well_formed(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The value of the request's cookie, if it has a well-formed one.
fn cookie_value(headers: &HeaderMap, secure: bool) -> Option<String> {
    value_in(&CookieJar::from_headers(headers), secure)
}

/// The value of the cookie in `jar`, if it has a well-formed one.
fn value_in(jar: &CookieJar, secure: bool) -> Option<String> {
    jar.get(cookie_name(secure)).map(|c| c.value().to_owned()).filter(|value| is_well_formed(value))
}

/// The form token of a request that already has the cookie (for error pages, which set
/// none); `None` without one.
pub(crate) fn form_token(headers: &HeaderMap, state: &AppState) -> Option<String> {
    let secure = state.secure_cookies();
    cookie_value(headers, secure).map(|value| state.csrf_key().form_token(&value, headers, secure))
}

/// For every HTML page (its cookies in `jar`): hands the form token to the handlers as a
/// [`CsrfToken`] extension, and returns the cookie to set if the browser has none yet.
pub(crate) fn ensure_token(
    state: &AppState,
    jar: &CookieJar,
    request: &mut Request,
) -> Option<Cookie<'static>> {
    let secure = state.secure_cookies();
    let (value, is_new) = match value_in(jar, secure) {
        Some(value) => (value, false),
        None => (new_cookie_value(), true),
    };
    let token = state.csrf_key().form_token(&value, request.headers(), secure);
    request.extensions_mut().insert(CsrfToken(token));
    is_new.then(|| cookies::cookie(cookie_name(secure), value, secure))
}

/// Whether the browser says the request comes from another site (or another origin of
/// this one): forms are only ever posted from this server's own pages.
fn from_elsewhere(headers: &HeaderMap) -> bool {
    let text = |name| headers.get(name).map(|v| v.to_str().unwrap_or("?"));
    if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site"))
        && !matches!(site, "same-origin" | "none")
    {
        return true;
    }
    // `null`: what a browser sends for a form of a page with `Referrer-Policy: no-referrer`
    // (ours), so it says nothing about where the form was.
    let Some(origin) = text(header::ORIGIN).filter(|origin| *origin != "null") else { return false };
    // `scheme://host[:port]`; only the host is compared, since a proxy may pass `Host`
    // without the port the browser used.
    let origin_host = origin.split_once("://").map(|(_, authority)| host_name(authority));
    let host = text(header::HOST).map(host_name);
    match (origin_host, host) {
        (Some(origin), Some(host)) => !origin.eq_ignore_ascii_case(host),
        _ => true,
    }
}

/// The host of `host[:port]` or `[v6]:port`.
pub(crate) fn host_name(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split_once(']').map_or(authority, |(v6, _)| v6);
    }
    authority.rsplit_once(':').map_or(authority, |(host, _)| host)
}

/// The hidden form field `csrf_token`.
#[derive(Deserialize)]
struct Field {
    csrf_token: Option<String>,
}

/// A URL-encoded form whose CSRF token was checked: a missing or wrong token, or a request
/// from elsewhere, answers 403 before the form is read. `T` must not deny unknown fields
/// (the token is one).
#[derive(Debug)]
pub(crate) struct CsrfForm<T>(pub(crate) T);

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = HttpError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        if from_elsewhere(request.headers()) {
            return Err(HttpError::csrf());
        }
        let expected = form_token(request.headers(), state);
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

/// Whether `sent`, the token of a form that is not URL-encoded (the multipart form of a CSV
/// import), passes the same checks as a [`CsrfForm`]'s: from this site, and the token of
/// the request's cookie.
pub(crate) fn is_valid(headers: &HeaderMap, state: &AppState, sent: Option<&str>) -> bool {
    if from_elsewhere(headers) {
        return false;
    }
    match (form_token(headers, state), sent) {
        (Some(expected), Some(sent)) => bool::from(expected.as_bytes().ct_eq(sent.as_bytes())),
        _ => false,
    }
}

/// Whether the browser says the request comes from another site: checked before a
/// multipart form is read.
pub(crate) fn is_from_elsewhere(headers: &HeaderMap) -> bool {
    from_elsewhere(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (header::HeaderName::from_static(k), HeaderValue::from_static(v))).collect()
    }

    #[test]
    fn cookie_values_are_random_and_well_formed() {
        let (a, b) = (new_cookie_value(), new_cookie_value());
        assert!(is_well_formed(&a) && is_well_formed(&b));
        assert_ne!(a, b);
        assert!(!is_well_formed("short"));
        assert!(!is_well_formed(&"g".repeat(64)));
    }

    #[test]
    fn form_tokens_are_bound_to_the_key_the_cookie_and_the_session() {
        let (key, other_key) = (Key::generate(), Key::generate());
        let cookie = new_cookie_value();
        let anonymous = HeaderMap::new();
        let signed_in = headers(&[("cookie", "renraku_session=token-a")]);
        let token = key.form_token(&cookie, &anonymous, false);
        assert_eq!(token, key.form_token(&cookie, &anonymous, false), "the same for the same inputs");
        assert_ne!(token, cookie, "not the cookie's value");
        assert_ne!(token, other_key.form_token(&cookie, &anonymous, false));
        assert_ne!(token, key.form_token(&new_cookie_value(), &anonymous, false));
        assert_ne!(token, key.form_token(&cookie, &signed_in, false));
        assert!(!format!("{key:?}").contains(&hex(&key.0)));
    }

    #[test]
    fn requests_from_elsewhere_are_recognised() {
        assert!(!from_elsewhere(&headers(&[])), "no header: an old browser or a program");
        assert!(!from_elsewhere(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!from_elsewhere(&headers(&[("sec-fetch-site", "none")])));
        assert!(from_elsewhere(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(from_elsewhere(&headers(&[("sec-fetch-site", "same-site")])));
        let same = headers(&[("origin", "https://renraku.example.org"), ("host", "renraku.example.org")]);
        assert!(!from_elsewhere(&same));
        let port = headers(&[("origin", "http://127.0.0.1:4000"), ("host", "127.0.0.1:4000")]);
        assert!(!from_elsewhere(&port));
        let v6 = headers(&[("origin", "http://[::1]:4000"), ("host", "[::1]:4000")]);
        assert!(!from_elsewhere(&v6));
        assert!(from_elsewhere(&headers(&[
            ("origin", "https://evil.example"),
            ("host", "renraku.example.org")
        ])));
        let own_form = headers(&[("origin", "null"), ("sec-fetch-site", "same-origin"), ("host", "h")]);
        assert!(!from_elsewhere(&own_form), "our pages send no referrer, so their forms say null");
        assert!(from_elsewhere(&headers(&[("origin", "null"), ("sec-fetch-site", "cross-site")])));
        assert!(from_elsewhere(&headers(&[("origin", "https://renraku.example.org")])), "no Host");
    }
}
