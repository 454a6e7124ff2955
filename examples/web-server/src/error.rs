//! The HTTP errors: [`PageError`] renders an HTML page, [`ApiError`] an RFC 9457
//! `application/problem+json` document. Both map [`renraku_core::Error`] the same way:
//!
//! | renraku error | status |
//! |---|---|
//! | `Validation` | 422, with the field errors |
//! | `NotFound` | 404 |
//! | `Conflict` | 409 (the API answers 412 when the request had `If-Match`) |
//! | `InvalidId` | 400 |
//! | `Backend` | 503 with a generic message; the cause is logged |
//!
//! Messages name fields, ids and versions, never the values that were entered.

use askama::Template;
use axum::extract::Request;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use renraku_core::{Error, ValidationErrors};
use serde::Serialize;

use crate::auth::AuthFailure;
use crate::views::{ErrorPage, Layout, Link};

/// The `WWW-Authenticate` challenge of a 401.
const CHALLENGE: &str = "Bearer realm=\"renraku\"";

/// The media type of RFC 9457 problem details.
pub(crate) const PROBLEM_JSON: &str = "application/problem+json";

/// What the user is told about an error, whatever its format.
#[derive(Debug)]
struct Described {
    status: StatusCode,
    message: String,
    link: Option<Link>,
    errors: Option<ValidationErrors>,
}

fn describe(err: Error) -> Described {
    let plain = |status, message: String| Described { status, message, link: None, errors: None };
    match err {
        Error::Validation(errors) => Described {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: "The input is not valid.".into(),
            link: None,
            errors: Some(errors),
        },
        Error::NotFound { case_id, contact_id: None } => Described {
            status: StatusCode::NOT_FOUND,
            message: format!("No contact data found for case #{case_id}."),
            link: Some(Link::new(format!("/cases/{case_id}/contacts/new"), "Add contact data")),
            errors: None,
        },
        Error::NotFound { case_id, contact_id: Some(id) } => Described {
            status: StatusCode::NOT_FOUND,
            message: format!("Contact {id} was not found in case #{case_id}."),
            link: Some(Link::new(format!("/cases/{case_id}"), format!("Back to case #{case_id}"))),
            errors: None,
        },
        Error::Conflict { current, .. } => plain(
            StatusCode::CONFLICT,
            format!(
                "The contact was changed in the meantime (it is now at version {current}). Nothing was saved."
            ),
        ),
        Error::InvalidId { kind } => plain(StatusCode::BAD_REQUEST, invalid_id_message(kind)),
        Error::Backend { backend, source } => {
            // The source is the backend's own error; renraku's backends keep personal values
            // out of their errors, so it can be logged for the operators.
            tracing::error!(backend, error = %source, "the storage backend failed");
            plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "The contact store is not available right now. Please try again later.".into(),
            )
        }
        other => {
            tracing::error!(error = %other, "unexpected error");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on our side.".into())
        }
    }
}

fn invalid_id_message(kind: renraku_core::IdKind) -> String {
    use renraku_core::IdKind;
    match kind {
        IdKind::Case => {
            "That is not a valid case id: use 1 to 64 letters, digits, '-', '_', '.' or ':'.".into()
        }
        IdKind::Contact => "That is not a valid contact id.".into(),
        IdKind::Cursor => "That is not a valid page cursor: follow the link of the previous page.".into(),
        other => format!("That is not a valid {other}."),
    }
}

fn title(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("Error")
}

/// An error answered with an HTML page.
#[derive(Debug)]
pub(crate) struct PageError {
    status: StatusCode,
    message: String,
    details: Vec<String>,
    link: Option<Link>,
    /// Boxed: errors travel in `Result`s and should stay small.
    layout: Option<Box<Layout>>,
}

impl PageError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), details: Vec::new(), link: None, layout: None }
    }

    /// Renders the error inside the page's layout (user, flash), not the bare one.
    pub(crate) fn with_layout(self, layout: Layout) -> Self {
        Self { layout: Some(Box::new(layout)), ..self }
    }

    /// Replaces the page's link.
    pub(crate) fn with_link(self, href: impl Into<String>, label: impl Into<String>) -> Self {
        Self { link: Some(Link::new(href, label)), ..self }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// The 401 page, with a link to the sign-in page that leads back to `path`.
    pub(crate) fn unauthorized(failure: AuthFailure, path: &str) -> Self {
        let message = match failure {
            AuthFailure::Missing => "You need to sign in to see this page.",
            AuthFailure::Invalid => "Your token is not valid (it may have expired). Please sign in again.",
        };
        let query = serde_urlencoded::to_string([("next", path)]).unwrap_or_default();
        Self {
            link: Some(Link::new(format!("/session?{query}"), "Sign in")),
            ..Self::new(StatusCode::UNAUTHORIZED, message)
        }
    }

    pub(crate) fn csrf() -> Self {
        Self {
            link: Some(Link::new("/", "Start again")),
            ..Self::new(
                StatusCode::FORBIDDEN,
                "The form's security token is missing or does not match. Please reload the page and try again.",
            )
        }
    }

    pub(crate) fn from_rejection(rejection: BytesRejection) -> Self {
        let status = rejection.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            Self::new(status, "The form is too large (at most 64 KiB).")
        } else {
            Self::new(status, "The form could not be read.")
        }
    }
}

impl From<Error> for PageError {
    fn from(err: Error) -> Self {
        let Described { status, message, link, errors } = describe(err);
        let details = errors.iter().flatten().map(ToString::to_string).collect();
        Self { status, message, details, link, layout: None }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            layout: self.layout.map_or_else(Layout::bare, |layout| *layout),
            title: title(self.status),
            message: self.message,
            details: self.details,
            link: self.link,
        };
        let html = match page.render() {
            Ok(html) => html,
            Err(err) => {
                tracing::error!(error = %err, "rendering the error page failed");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
        };
        let mut response = (self.status, axum::response::Html(html)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(CHALLENGE));
        }
        response
    }
}

/// An RFC 9457 problem details document.
#[derive(Debug, Serialize)]
struct Problem {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'static str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<ValidationErrors>,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_version: Option<u64>,
}

/// An error of the JSON API, answered as `application/problem+json`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    detail: String,
    errors: Option<ValidationErrors>,
    current_version: Option<u64>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self { status, detail: detail.into(), errors: None, current_version: None }
    }

    pub(crate) fn unauthorized(failure: AuthFailure) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            match failure {
                AuthFailure::Missing => "A bearer token is required in the Authorization header.",
                AuthFailure::Invalid => "The token is not valid.",
            },
        )
    }

    /// The `If-Match` of the request names another version than the current one.
    pub(crate) fn precondition_failed(current: Option<u64>) -> Self {
        let detail = match current {
            Some(v) => format!("The contact is at version {v}; If-Match does not match."),
            None => "If-Match does not match: the contact does not exist.".into(),
        };
        Self { current_version: current, ..Self::new(StatusCode::PRECONDITION_FAILED, detail) }
    }

    /// A rejected JSON body: 400 for malformed JSON, 422 for the wrong shape (unknown or
    /// mistyped fields), 415 without a JSON content type, 413 when too large.
    pub(crate) fn from_json_rejection(rejection: &JsonRejection) -> Self {
        // The detail echoes the parser's message to the sender only; it is never logged.
        Self::new(rejection.status(), rejection.body_text())
    }

    #[cfg(test)]
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        let current_version = match &err {
            Error::Conflict { current, .. } => Some(*current),
            _ => None,
        };
        let Described { status, message, errors, .. } = describe(err);
        Self { status, detail: message, errors, current_version }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = Problem {
            kind: "about:blank",
            title: title(self.status),
            status: self.status.as_u16(),
            detail: self.detail,
            errors: self.errors,
            current_version: self.current_version,
        };
        let body = crate::html_safe_json(&problem);
        let mut response = (self.status, [(header::CONTENT_TYPE, PROBLEM_JSON)], body).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(CHALLENGE));
        }
        response
    }
}

/// Whether a response is an error that axum or a layer produced in plain text.
fn is_bare_error(response: &Response, formatted: &str) -> bool {
    let status = response.status();
    let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    (status.is_client_error() || status.is_server_error())
        && !content_type.is_some_and(|ct| ct.starts_with(formatted))
}

/// The message of a bare error response (axum's rejections explain themselves in text).
async fn bare_message(response: Response) -> (axum::http::response::Parts, String) {
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    (parts, String::from_utf8_lossy(&bytes).trim().to_owned())
}

/// Middleware of the HTML pages: turns the plain-text errors of axum's extractors (a
/// malformed path or query, 405) into error pages with the same status and headers.
pub(crate) async fn html_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if !is_bare_error(&response, "text/html") {
        return response;
    }
    let (parts, message) = bare_message(response).await;
    let message = if message.is_empty() { title(parts.status).to_owned() } else { message };
    let mut page = PageError::new(parts.status, message).into_response();
    copy_headers(&parts.headers, page.headers_mut());
    page
}

/// Middleware of the JSON API: turns plain-text errors into problem documents.
pub(crate) async fn api_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if !is_bare_error(&response, PROBLEM_JSON) {
        return response;
    }
    let (parts, message) = bare_message(response).await;
    let message = if message.is_empty() { title(parts.status).to_owned() } else { message };
    let mut problem = ApiError::new(parts.status, message).into_response();
    copy_headers(&parts.headers, problem.headers_mut());
    problem
}

fn copy_headers(from: &axum::http::HeaderMap, to: &mut axum::http::HeaderMap) {
    for (name, value) in from {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            to.append(name.clone(), value.clone());
        }
    }
}
