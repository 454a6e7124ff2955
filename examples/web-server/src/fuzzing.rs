//! The server's own parsers, for the fuzz targets in `fuzz/` of the repository: not an API,
//! not stable, hidden from the docs. Each function is a thin wrapper that calls the very
//! code a request goes through.

use axum::body::Body;
use axum::extract::FromRequest;
use axum::http::{Request, header};
use axum::response::IntoResponse;
use renraku_core::NewContact;
use serde::de::DeserializeOwned;

use crate::JwtVerifier;
use crate::api::ApiJson;
use crate::forms::ContactForm;

/// A contact form as the server reads it from a form body.
#[derive(Debug)]
pub struct ParsedForm {
    /// The input of a create, as `create_contact` builds it.
    pub input: NewContact,
    /// The version of the edit form, as `update_contact` reads it.
    pub version: Option<u64>,
}

/// Reads a contact form from an `application/x-www-form-urlencoded` body, as the new and
/// edit pages do (`CsrfForm<ContactForm>`, after its token check); `None` where the server
/// answers 400.
#[must_use]
pub fn contact_form(body: &[u8]) -> Option<ParsedForm> {
    let form: ContactForm = serde_urlencoded::from_bytes(body).ok()?;
    Some(ParsedForm { input: form.to_new_contact(), version: form.version() })
}

/// Reads a JSON API body as `T` (`NewContact` for a create, `ContactPatch` for an update)
/// with the API's extractor, from a request with this `Content-Type`; the error is the
/// status the API answers. It never waits: the body is in memory.
///
/// # Errors
/// The status of the rejection.
pub async fn api_json<T: DeserializeOwned>(content_type: Option<&str>, body: Vec<u8>) -> Result<T, u16> {
    let mut request = Request::post("/api/cases/1/contacts");
    if let Some(content_type) = content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    let request = request.body(Body::from(body)).map_err(|_| 0_u16)?;
    match ApiJson::<T>::from_request(request, &()).await {
        Ok(ApiJson(value)) => Ok(value),
        Err(err) => Err(err.into_response().status().as_u16()),
    }
}

/// A verifier of tokens from `issuer`, with the test key of `tests/fixtures` (the claims
/// step never uses the key).
///
/// # Panics
/// If the test key does not load.
#[must_use]
pub fn verifier(issuer: &str) -> JwtVerifier {
    JwtVerifier::from_rsa_pem(include_bytes!("../tests/fixtures/test-public.pem"), issuer)
        .expect("the test key loads")
}

/// The claims step of token verification, after a valid signature: the actor's id and the
/// expiry, or the reason for refusing.
///
/// # Errors
/// The fixed reason the verifier logs.
pub fn check_claims(verifier: &JwtVerifier, token: &str) -> Result<(String, i64), &'static str> {
    verifier.check_claims(token).map(|v| (v.actor.as_str().to_owned(), v.expires_at))
}

/// The token of an `Authorization` header, with or without `Bearer `.
#[must_use]
pub fn strip_bearer(value: &str) -> &str {
    crate::auth::strip_bearer(value)
}
