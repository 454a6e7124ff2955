//! [`HttpError`]: every error answer, whatever the surface. Handlers, extractors and
//! axum's own rejections all end as one; the pages render it as an HTML page in the user's
//! layout, the API as an RFC 9457 `application/problem+json` document. Both map
//! [`renraku_core::Error`] the same way:
//!
//! | renraku error | status |
//! |---|---|
//! | `Validation` | 422, with the field errors |
//! | `NotFound` | 404 |
//! | `Conflict` | 409 (the API answers 412 when the request had `If-Match`) |
//! | `InvalidId` | 400 |
//! | `Denied` | 403 |
//! | `Backend` | 503 with a generic message; the cause is logged |
//!
//! Messages name fields, ids and versions, never the values that were entered.

use askama::Template;
use axum::extract::Request;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use renraku_core::{Error, IdKind, ValidationErrors};
use serde::Serialize;

use crate::AppState;
use crate::auth::AuthFailure;
use crate::views::{ErrorPage, Layout, Link};

/// The `WWW-Authenticate` challenge of a 401.
const CHALLENGE: &str = "Bearer realm=\"renraku\"";

/// The media type of RFC 9457 problem details.
pub(crate) const PROBLEM_JSON: &str = "application/problem+json";

/// An error answer: its status, a message for people and what goes with it.
///
/// As a response it is only a marker (its status, with itself as an extension); the
/// request's [`Surface`] renders it in the format of the request's surface.
#[derive(Debug, Clone)]
pub(crate) struct HttpError {
    status: StatusCode,
    message: String,
    errors: Option<ValidationErrors>,
    link: Option<Link>,
    current_version: Option<u64>,
}

impl HttpError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), errors: None, link: None, current_version: None }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// Replaces the link the error page offers.
    pub(crate) fn with_link(self, href: impl Into<String>, label: impl Into<String>) -> Self {
        Self { link: Some(Link::new(href, label)), ..self }
    }

    /// The 401, with a link to the sign-in page that leads back to `path`.
    pub(crate) fn unauthorized(failure: AuthFailure, path: &str) -> Self {
        let message = match failure {
            AuthFailure::Missing => {
                "You need to sign in: send a bearer token, or sign in on the sign-in page."
            }
            AuthFailure::Invalid => "Your token is not valid (it may have expired). Please sign in again.",
        };
        let query = serde_urlencoded::to_string([("next", path)]).unwrap_or_default();
        Self::new(StatusCode::UNAUTHORIZED, message).with_link(format!("/session?{query}"), "Sign in")
    }

    /// A body over [`BODY_LIMIT`](crate::BODY_LIMIT).
    pub(crate) fn too_large() -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "The body is too large (at most 64 KiB).")
    }

    pub(crate) fn csrf() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "The form's security token is missing or does not match. Please reload the page and try again.",
        )
        .with_link("/", "Start again")
    }

    /// The `If-Match` of the request names another version than the current one.
    pub(crate) fn precondition_failed(current: Option<u64>) -> Self {
        let message = match current {
            Some(v) => format!("The contact is at version {v}; If-Match does not match."),
            None => "If-Match does not match: the contact does not exist.".into(),
        };
        Self { current_version: current, ..Self::new(StatusCode::PRECONDITION_FAILED, message) }
    }

    #[cfg(test)]
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    /// The error as an HTML page in `layout`.
    fn page(&self, layout: Layout) -> Response {
        let page = ErrorPage {
            layout,
            title: title(self.status),
            message: self.message.clone(),
            details: self.errors.iter().flatten().map(ToString::to_string).collect(),
            link: self.link.clone(),
        };
        match page.render() {
            Ok(html) => self.with_challenge((self.status, axum::response::Html(html)).into_response()),
            Err(err) => {
                tracing::error!(error = %err, "rendering the error page failed");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    }

    /// The error as a problem document.
    fn problem(&self) -> Response {
        #[derive(Serialize)]
        struct Problem<'a> {
            #[serde(rename = "type")]
            kind: &'static str,
            title: &'static str,
            status: u16,
            detail: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            errors: Option<&'a ValidationErrors>,
            #[serde(skip_serializing_if = "Option::is_none")]
            current_version: Option<u64>,
        }
        let problem = Problem {
            kind: "about:blank",
            title: title(self.status),
            status: self.status.as_u16(),
            detail: &self.message,
            errors: self.errors.as_ref(),
            current_version: self.current_version,
        };
        match crate::html_safe_json(&problem) {
            Ok(body) => self
                .with_challenge((self.status, [(header::CONTENT_TYPE, PROBLEM_JSON)], body).into_response()),
            Err(status) => status.into_response(),
        }
    }

    fn with_challenge(&self, mut response: Response) -> Response {
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(CHALLENGE));
        }
        response
    }
}

impl From<Error> for HttpError {
    fn from(err: Error) -> Self {
        match err {
            Error::Validation(errors) => Self {
                errors: Some(errors),
                ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "The input is not valid.")
            },
            Error::NotFound { case_id, contact_id: None } => {
                Self::new(StatusCode::NOT_FOUND, format!("No contact data found for case #{case_id}."))
                    .with_link(format!("/cases/{case_id}/contacts/new"), "Add contact data")
            }
            Error::NotFound { case_id, contact_id: Some(id) } => {
                Self::new(StatusCode::NOT_FOUND, format!("Contact {id} was not found in case #{case_id}."))
                    .with_link(format!("/cases/{case_id}"), format!("Back to case #{case_id}"))
            }
            Error::Conflict { current, .. } => Self {
                current_version: Some(current),
                ..Self::new(
                    StatusCode::CONFLICT,
                    format!(
                        "The contact was changed in the meantime (it is now at version {current}). Nothing was saved."
                    ),
                )
            },
            Error::InvalidId { kind } => Self::bad_request(invalid_id_message(kind)),
            Error::Denied { action, case_id } => Self::new(
                StatusCode::FORBIDDEN,
                match case_id {
                    Some(case) => format!("You may not {} in case #{case}.", action_phrase(action)),
                    None => format!("You may not {}.", action_phrase(action)),
                },
            ),
            Error::Backend { backend, source } => {
                // The source is the backend's own error; renraku's backends keep personal
                // values out of their errors, so it can be logged for the operators.
                tracing::error!(backend, error = %source, "the storage backend failed");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The contact store is not available right now. Please try again later.",
                )
            }
            other => {
                tracing::error!(error = %other, "unexpected error");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on our side.")
            }
        }
    }
}

/// axum's rejections explain themselves in text; the text names the problem, never a value
/// that was entered in a field (JSON errors may quote the sender's own input back to it).
macro_rules! from_rejection {
    ($($rejection:ty),*) => {$(
        impl From<$rejection> for HttpError {
            fn from(rejection: $rejection) -> Self {
                Self::new(rejection.status(), rejection.body_text())
            }
        }
    )*};
}
from_rejection!(PathRejection, QueryRejection);

impl From<JsonRejection> for HttpError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::BytesRejection(rejection) => rejection.into(),
            other => Self::new(other.status(), other.body_text()),
        }
    }
}

impl From<BytesRejection> for HttpError {
    fn from(rejection: BytesRejection) -> Self {
        let status = rejection.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            Self::too_large()
        } else if caused_by::<tower_http::timeout::TimeoutError>(&rejection) {
            // The body deadline of the server (serve.rs) ran out while it was read.
            Self::new(StatusCode::REQUEST_TIMEOUT, "The body did not arrive in time.")
        } else {
            Self::new(status, "The body could not be read.")
        }
    }
}

/// Whether `E` is somewhere in the chain of sources of `error`.
fn caused_by<E: std::error::Error + 'static>(error: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(error), |e| e.source()).any(|e| e.is::<E>())
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// What an action is, for people.
fn action_phrase(action: renraku_core::access::Action) -> &'static str {
    use renraku_core::access::Action;
    match action {
        Action::Read => "read contact data",
        Action::Create => "add contacts",
        Action::Update => "change contacts",
        Action::Delete => "delete contacts",
        Action::EraseCase => "erase the contact data",
        Action::ReadAudit => "read the audit trail",
        Action::Search => "search across cases",
        Action::ExportPerson => "export a person's contact data",
        Action::ErasePerson => "erase a person's contact data",
        _ => "do this",
    }
}

pub(crate) fn invalid_id_message(kind: IdKind) -> String {
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

/// The error a response stands for: an [`HttpError`] marker, or a plain-text error that
/// axum or a layer produced (a 405, a 413, a timeout), whose text becomes the message.
async fn error_of(response: Response, formatted: &str) -> Result<Response, (HeaderMap, HttpError)> {
    if let Some(error) = response.extensions().get::<HttpError>().cloned() {
        return Err((response.into_parts().0.headers, error));
    }
    let status = response.status();
    let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let bare = (status.is_client_error() || status.is_server_error())
        && !content_type.is_some_and(|ct| ct.starts_with(formatted));
    if !bare {
        return Ok(response);
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).trim().to_owned();
    let message = if text.is_empty() { title(status).to_owned() } else { text };
    Err((parts.headers, HttpError::new(status, message)))
}

/// Renders the error of `response` with `render`, keeping the headers set on the way
/// (`Allow`, cookies).
async fn render_errors(
    response: Response,
    formatted: &str,
    render: impl FnOnce(&HttpError) -> Response,
) -> Response {
    match error_of(response, formatted).await {
        Ok(response) => response,
        Err((headers, error)) => {
            let mut rendered = render(&error);
            for (name, value) in &headers {
                if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                    rendered.headers_mut().append(name.clone(), value.clone());
                }
            }
            rendered
        }
    }
}

/// Whether a path belongs to the JSON API, whose errors are problem documents.
pub(crate) fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// The format a request's errors are rendered in: a problem document under `/api`, a page
/// in the user's layout (who is signed in, whether authentication is disabled) elsewhere.
pub(crate) enum Surface {
    Api,
    /// The request's headers, kept to make the layout only if the answer is an error (it
    /// verifies the token again, which a successful page need not pay for).
    Pages(HeaderMap),
}

impl Surface {
    pub(crate) fn of(request: &Request) -> Self {
        if is_api(request.uri().path()) { Self::Api } else { Self::Pages(request.headers().clone()) }
    }

    /// Renders the error of `response`, if it is one, in this surface's format.
    pub(crate) async fn render_errors(self, response: Response, state: &AppState) -> Response {
        match self {
            Self::Api => render_errors(response, PROBLEM_JSON, HttpError::problem).await,
            Self::Pages(headers) => {
                render_errors(response, "text/html", |error| error.page(Layout::of_request(&headers, state)))
                    .await
            }
        }
    }
}
