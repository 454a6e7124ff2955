//! The JSON API under `/api`.
//!
//! Bodies use the form field names; a contact is one object with its fields at the top
//! level (renraku's `Contact` as serde writes it); a list is `{"items": [...], "next": ...}`.
//! Errors are RFC 9457 problem documents. A body that is not JSON answers 400; JSON of the
//! wrong shape (an unknown field, a number where text belongs) answers 422, like a body
//! that breaks a validation rule.

use axum::body::Body;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use renraku_core::{
    Actor, CaseId, Contact, ContactId, ContactPatch, ContactRepository as _, Error, NewContact, PageLimit,
};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::access::Guarded;
use crate::auth::ApiActor;
use crate::error::HttpError;
use crate::extract::{CasePath, ContactPath, Paging};

/// The routes of the JSON API.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/heartbeat", get(heartbeat))
        .route("/api/ready", get(ready))
        .route("/api/cases/{case_id}/contacts", get(list).post(create))
        .route("/api/cases/{case_id}/contacts/{id}", get(show).patch(update).delete(remove))
        .route("/api/cases/{case_id}/audit", get(audit))
        .route("/api/audit", get(audit_across_cases))
}

/// For load balancers: no token, no body.
async fn heartbeat() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// For orchestrators: 204 while the store can serve requests, 503 while its database is
/// unreachable. Unlike the heartbeat (the process is alive), this one says whether to send
/// it traffic.
async fn ready(State(state): State<AppState>) -> Result<StatusCode, HttpError> {
    if state.ready().await {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(HttpError::new(StatusCode::SERVICE_UNAVAILABLE, "The contact store is not reachable right now."))
    }
}

/// A JSON body whose rejection is a problem document: 400 for malformed JSON, 422 for the
/// wrong shape (unknown or mistyped fields), 415 without a JSON content type, 413 when too
/// large. The detail echoes the parser's message to the sender only; it is never logged.
#[derive(Debug)]
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = HttpError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        Json::<T>::from_request(request, state).await.map(|Json(value)| Self(value)).map_err(HttpError::from)
    }
}

/// The entity tag of a version: the version number, quoted.
fn etag(version: u64) -> HeaderValue {
    // The formatted text becomes the value without a copy.
    HeaderValue::from_maybe_shared(format!("\"{version}\"")).expect("a quoted number is a valid header value")
}

/// How many headers a JSON response ends up with: its type and entity tag, its length, the
/// security headers and the request id.
const JSON_RESPONSE_HEADERS: usize = 10;

/// A JSON response (see [`crate::html_safe_json`]).
fn json(status: StatusCode, value: &impl serde::Serialize) -> Response {
    match crate::html_safe_json(value) {
        Ok(body) => {
            let mut response = Response::new(Body::from(body));
            *response.status_mut() = status;
            // Room for all of them at once: growing the map later moves every header.
            let headers = response.headers_mut();
            headers.reserve(JSON_RESPONSE_HEADERS);
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        Err(status) => HttpError::new(status, "The response could not be written.").into_response(),
    }
}

/// A contact as JSON with its entity tag (made by the caller, who may have compared it).
fn with_etag(status: StatusCode, contact: &Contact, tag: HeaderValue) -> Response {
    let mut response = json(status, contact);
    response.headers_mut().insert(header::ETAG, tag);
    response
}

/// The `If-Match` of a request.
#[derive(Debug, PartialEq, Eq)]
enum IfMatch {
    Absent,
    /// `*`: any current version.
    Any,
    /// The versions of the strong entity tags listed (weak ones never match).
    Versions(Vec<u64>),
}

fn parse_if_match(headers: &HeaderMap) -> Result<IfMatch, HttpError> {
    let malformed =
        || HttpError::new(StatusCode::BAD_REQUEST, "If-Match must be * or a list of quoted entity tags.");
    let mut tags = Vec::new();
    for value in headers.get_all(header::IF_MATCH) {
        let value = value.to_str().map_err(|_| malformed())?;
        tags.extend(value.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned));
    }
    if tags.is_empty() {
        return Ok(IfMatch::Absent);
    }
    if tags.iter().any(|t| t == "*") {
        return Ok(IfMatch::Any);
    }
    let mut versions = Vec::new();
    for tag in &tags {
        let (weak, quoted) = match tag.strip_prefix("W/") {
            Some(rest) => (true, rest),
            None => (false, tag.as_str()),
        };
        let inner = quoted.strip_prefix('"').and_then(|t| t.strip_suffix('"')).ok_or_else(malformed)?;
        // A weak tag never matches under If-Match's strong comparison, and a tag that is
        // not a number is not one of ours: both simply fail to match.
        if let (false, Ok(version)) = (weak, inner.parse()) {
            versions.push(version);
        }
    }
    Ok(IfMatch::Versions(versions))
}

/// The version a write must expect, from the request's `If-Match`.
async fn expected_version(
    store: &Guarded,
    case_id: &CaseId,
    id: ContactId,
    if_match: &IfMatch,
    actor: &Actor,
) -> Result<Option<u64>, HttpError> {
    match if_match {
        IfMatch::Absent | IfMatch::Any => Ok(None),
        IfMatch::Versions(versions) if versions.len() == 1 => Ok(Some(versions[0])),
        IfMatch::Versions(versions) => {
            let current = store.get(case_id, id, actor).await.map_err(|e| write_error(e, if_match))?.version;
            if versions.contains(&current) {
                Ok(Some(current))
            } else {
                Err(HttpError::precondition_failed(Some(current)))
            }
        }
    }
}

/// Maps the error of a write: with `If-Match`, a stale version is a 412, not a 409, and so
/// is a contact that does not exist, since no current version can match (RFC 9110
/// §13.1.1, also for `*`).
fn write_error(err: Error, if_match: &IfMatch) -> HttpError {
    match err {
        Error::Conflict { current, .. } if *if_match != IfMatch::Absent => {
            HttpError::precondition_failed(Some(current))
        }
        Error::NotFound { contact_id: Some(_), .. } if *if_match != IfMatch::Absent => {
            HttpError::precondition_failed(None)
        }
        other => HttpError::from(other),
    }
}

/// Whether `If-None-Match` names the current entity tag (weak comparison).
fn none_match(headers: &HeaderMap, current: &HeaderValue) -> bool {
    let current = current.as_bytes();
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| {
            let tag = tag.trim();
            let tag = tag.strip_prefix("W/").unwrap_or(tag);
            tag == "*" || tag.as_bytes() == current
        })
}

async fn list(
    ApiActor(actor, store): ApiActor,
    CasePath(case_id): CasePath,
    paging: Paging,
) -> Result<Response, HttpError> {
    let page = store.list(&case_id, paging.request(PageLimit::DEFAULT), &actor).await?;
    Ok(json(StatusCode::OK, &page))
}

async fn create(
    ApiActor(actor, store): ApiActor,
    CasePath(case_id): CasePath,
    ApiJson(input): ApiJson<NewContact>,
) -> Result<Response, HttpError> {
    let contact = store.create(&case_id, input, &actor).await?;
    let mut response = with_etag(StatusCode::CREATED, &contact, etag(contact.version));
    let location = format!("/api/cases/{case_id}/contacts/{}", contact.id);
    if let Ok(location) = HeaderValue::try_from(location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// The request last (not a `HeaderMap`, which would copy every header) for its
/// `If-None-Match`.
async fn show(
    ApiActor(actor, store): ApiActor,
    ContactPath(case_id, id): ContactPath,
    request: Request,
) -> Result<Response, HttpError> {
    let contact = store.get(&case_id, id, &actor).await?;
    let tag = etag(contact.version);
    if none_match(request.headers(), &tag) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, tag)]).into_response());
    }
    Ok(with_etag(StatusCode::OK, &contact, tag))
}

async fn update(
    ApiActor(actor, store): ApiActor,
    ContactPath(case_id, id): ContactPath,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<ContactPatch>,
) -> Result<Response, HttpError> {
    let if_match = parse_if_match(&headers)?;
    let expected = expected_version(&store, &case_id, id, &if_match, &actor).await?;
    let contact =
        store.update(&case_id, id, patch, expected, &actor).await.map_err(|e| write_error(e, &if_match))?;
    Ok(with_etag(StatusCode::OK, &contact, etag(contact.version)))
}

async fn remove(
    ApiActor(actor, store): ApiActor,
    ContactPath(case_id, id): ContactPath,
    headers: HeaderMap,
) -> Result<StatusCode, HttpError> {
    let if_match = parse_if_match(&headers)?;
    let expected = expected_version(&store, &case_id, id, &if_match, &actor).await?;
    store.delete(&case_id, id, expected, &actor).await.map_err(|e| write_error(e, &if_match))?;
    Ok(StatusCode::NO_CONTENT)
}

async fn audit(
    ApiActor(actor, store): ApiActor,
    CasePath(case_id): CasePath,
    paging: Paging,
) -> Result<Response, HttpError> {
    let page = store.audit_trail(&case_id, paging.request(PageLimit::DEFAULT), &actor).await?;
    Ok(json(StatusCode::OK, &page))
}

/// The audit events of what was done across cases (searches, with read audit on).
async fn audit_across_cases(ApiActor(actor, store): ApiActor, paging: Paging) -> Result<Response, HttpError> {
    let page = store.audit_trail(&CaseId::across_cases(), paging.request(PageLimit::DEFAULT), &actor).await?;
    Ok(json(StatusCode::OK, &page))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn if_match(values: &[&str]) -> Result<IfMatch, HttpError> {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(header::IF_MATCH, HeaderValue::from_str(value).unwrap());
        }
        parse_if_match(&headers)
    }

    #[test]
    fn if_match_is_parsed_strictly() {
        assert_eq!(if_match(&[]).unwrap(), IfMatch::Absent);
        assert_eq!(if_match(&["*"]).unwrap(), IfMatch::Any);
        assert_eq!(if_match(&["\"3\""]).unwrap(), IfMatch::Versions(vec![3]));
        assert_eq!(if_match(&["\"3\", W/\"4\"", "\"x\""]).unwrap(), IfMatch::Versions(vec![3]));
        assert_eq!(if_match(&["W/\"4\""]).unwrap(), IfMatch::Versions(vec![]));
        assert_eq!(if_match(&["3"]).unwrap_err().status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn if_none_match_compares_weakly() {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"1\", W/\"2\""));
        assert!(none_match(&headers, &etag(1)) && none_match(&headers, &etag(2)));
        assert!(!none_match(&headers, &etag(3)) && !none_match(&headers, &etag(12)));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"01\", 1, *x"));
        assert!(!none_match(&headers, &etag(1)), "the tags must be the same text");
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(none_match(&headers, &etag(7)));
    }
}
