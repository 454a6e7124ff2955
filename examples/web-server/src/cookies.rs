//! The cookies of this site: built one way, set and removed one way.

use axum::http::{HeaderMap, HeaderValue, header};
use axum_extra::extract::cookie::{Cookie, SameSite};

/// A cookie for this site only: path `/`, HttpOnly, `SameSite=Strict`, `Secure` when the
/// server runs behind TLS.
pub(crate) fn cookie(name: &'static str, value: impl Into<String>, secure: bool) -> Cookie<'static> {
    Cookie::build((name, value.into()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .build()
}

/// Adds a `Set-Cookie` header.
pub(crate) fn append(headers: &mut HeaderMap, cookie: Cookie<'_>) {
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        headers.append(header::SET_COOKIE, value);
    }
}

/// Appends a `Set-Cookie` that deletes the cookie `name` in the browser.
pub(crate) fn remove(headers: &mut HeaderMap, name: &'static str, secure: bool) {
    let mut removal = cookie(name, "", secure);
    removal.make_removal();
    append(headers, removal);
}
