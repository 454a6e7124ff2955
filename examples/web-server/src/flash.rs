//! Flash messages: a short-lived cookie set with a redirect and shown once by the next page.
//!
//! The cookie holds a fixed key such as `created`, never free text, so nothing a user typed
//! travels in it and nothing in it needs escaping.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;

use crate::{AppState, cookies};

/// The name of the flash cookie.
pub(crate) const COOKIE: &str = "renraku_flash";

/// How long a flash waits for the page that shows it.
const MAX_AGE_SECONDS: i64 = 60;

/// The messages a redirect can carry to the next page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flash {
    Created,
    Updated,
    Deleted,
    Erased,
    Imported,
    SignedIn,
    SignedOut,
}

impl Flash {
    const ALL: [Self; 7] = [
        Self::Created,
        Self::Updated,
        Self::Deleted,
        Self::Erased,
        Self::Imported,
        Self::SignedIn,
        Self::SignedOut,
    ];

    fn key(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Deleted => "deleted",
            Self::Erased => "erased",
            Self::Imported => "imported",
            Self::SignedIn => "signed-in",
            Self::SignedOut => "signed-out",
        }
    }

    /// The message shown to the user.
    pub(crate) fn message(self) -> &'static str {
        match self {
            Self::Created => "Contact created successfully.",
            Self::Updated => "Contact updated successfully.",
            Self::Deleted => "Contact deleted successfully.",
            Self::Erased => "All contact data of the case was erased.",
            Self::Imported => "Contacts imported successfully.",
            Self::SignedIn => "Signed in.",
            Self::SignedOut => "Signed out.",
        }
    }

    fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.key() == key)
    }
}

/// The flash that arrived with the current request, as a request extension.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IncomingFlash(pub(crate) Option<Flash>);

/// A `303 See Other` to `to` that shows `flash` on the page it leads to.
pub(crate) fn redirect(to: &str, flash: Flash, state: &AppState) -> Response {
    let mut response = see_other(to);
    let mut cookie = cookies::cookie(COOKIE, flash.key(), state.secure_cookies());
    cookie.set_max_age(time::Duration::seconds(MAX_AGE_SECONDS));
    cookies::append(response.headers_mut(), cookie);
    response
}

/// A `303 See Other` to a local path.
pub(crate) fn see_other(to: &str) -> Response {
    match HeaderValue::try_from(to) {
        Ok(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// For every HTML page (its cookies in `jar`): hands the flash of the request to the
/// handlers as an [`IncomingFlash`] extension; returns whether the request had the cookie.
pub(crate) fn take(jar: &CookieJar, request: &mut Request) -> bool {
    let incoming = jar.get(COOKIE).map(|c| Flash::from_key(c.value()));
    request.extensions_mut().insert(IncomingFlash(incoming.flatten()));
    incoming.is_some()
}

/// After the page: deletes the cookie the request `had` once an HTML page was rendered
/// (that page showed it), unless the response sets a new flash.
pub(crate) fn clear_if_shown(state: &AppState, had: bool, response: &mut Response) {
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let sets_flash = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.as_bytes().strip_prefix(COOKIE.as_bytes()).is_some_and(|rest| rest.starts_with(b"=")));
    if had && is_page && !sets_flash {
        cookies::remove(response.headers_mut(), COOKIE, state.secure_cookies());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        for flash in Flash::ALL {
            assert_eq!(Flash::from_key(flash.key()), Some(flash));
        }
        assert_eq!(Flash::from_key("<script>"), None);
    }
}
