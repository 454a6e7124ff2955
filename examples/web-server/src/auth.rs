//! Authentication: RS256 JWTs from the `Authorization` header or the session cookie, and
//! the development bypass `DISABLE_AUTH`.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum_extra::extract::cookie::CookieJar;
use jsonwebtoken::{Algorithm, DecodingKey};
use renraku_core::access::{Role, Roles};
use renraku_core::{Actor, CaseId};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::access::{Guarded, Principal};
use crate::error::HttpError;
use crate::views::Layout;

/// The name of the cookie that holds the signed-in user's token on plain HTTP.
pub(crate) const SESSION_COOKIE: &str = "renraku_session";

/// Its name with `Secure` cookies: `__Host-` binds it to this host, path `/`.
pub(crate) const SECURE_SESSION_COOKIE: &str = "__Host-renraku_session";

/// The session cookie's name for the server's cookie setting.
pub(crate) fn session_cookie_name(secure: bool) -> &'static str {
    if secure { SECURE_SESSION_COOKIE } else { SESSION_COOKIE }
}

/// The token in the request's session cookie, if there is one.
pub(crate) fn session_cookie(headers: &HeaderMap, secure: bool) -> Option<String> {
    CookieJar::from_headers(headers).get(session_cookie_name(secure)).map(|c| c.value().to_owned())
}

/// The id of the user every request acts as when authentication is disabled.
pub const DEV_ACTOR: &str = "dev-user";

/// How far the clocks of the identity provider and this server may differ.
const LEEWAY_SECONDS: i64 = 60;

/// How many verified tokens the verifier remembers.
const REMEMBERED_TOKENS: usize = 10_000;

/// Verifies tokens: RS256 only, signed by the configured key, with the configured issuer
/// and an expiry.
///
/// The signature is checked by `jsonwebtoken`. Its `decode` cannot be used as a whole:
/// it fails on tokens whose `sub` is an object (Keats/jsonwebtoken#427), and the original
/// application's identity provider puts the user in `sub.id`. So the steps are spelled out
/// here: the header must name RS256, the signature must verify with the key (the
/// algorithm is fixed, never taken from the token), and only then are the claims read and
/// `exp`, `nbf` and `iss` checked.
///
/// Verifying an RS256 signature costs far more than serving a page, and a browser sends
/// the same token with every request. So the verifier remembers the tokens it verified
/// (by their SHA-256, never the token itself) until they expire, up to
/// 10,000 of them; a token it refused is checked again each time.
#[derive(Clone)]
pub struct JwtVerifier {
    key: DecodingKey,
    issuer: String,
    verified: Arc<Mutex<Remembered>>,
}

/// The verified tokens, by their SHA-256.
type Remembered = HashMap<[u8; 32], Verified, BuildHasherDefault<DigestHasher>>;

/// Hashes a token's SHA-256 by its first eight bytes, which are uniform already. The table
/// holds only verified tokens, so no client can crowd one of its buckets, and SipHash over
/// all 32 bytes cost 600 instructions a request (BENCHMARKS.md, issue 16).
#[derive(Default)]
struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn write(&mut self, bytes: &[u8]) {
        // A slice's length comes first (8 bytes), then the digest: keep the digest's bytes.
        let mut word = [0; 8];
        let taken = bytes.len().min(8);
        word[..taken].copy_from_slice(&bytes[..taken]);
        self.0 = self.0.rotate_left(29) ^ u64::from_le_bytes(word);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A token that passed verification.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The user the token was issued to (`sub.id`), without roles.
    pub actor: Actor,
    /// The roles of the `roles` claim (names renraku-core does not know are left out);
    /// `None` without the claim, when the server's default roles apply.
    pub roles: Option<Roles>,
    /// The cases of the `cases` claim, to which the token is restricted; `None` without
    /// the claim: every case.
    pub cases: Option<Arc<[CaseId]>>,
    /// When the token expires, in seconds since the Unix epoch (`exp`).
    pub expires_at: i64,
}

impl Verified {
    /// The last second (since the Unix epoch) in which the token is accepted: its expiry
    /// plus the clock leeway.
    #[must_use]
    pub fn accepted_until(&self) -> i64 {
        self.expires_at.saturating_add(LEEWAY_SECONDS)
    }
}

/// Why a token was refused. It never holds the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No token was sent.
    Missing,
    /// The token is malformed, expired, from another issuer, signed with another key or
    /// algorithm, or has no usable `sub.id`.
    Invalid,
}

/// The claims the server reads; `exp`, `iss` and `sub.id` are required, `roles` and
/// `cases` (arrays of strings) are optional. serde would also
/// read a struct from a JSON array (`[["user"], "parc-cli", exp]`), so `check` lets only
/// objects through.
#[derive(Deserialize)]
struct Claims {
    sub: Subject,
    iss: String,
    exp: NumericDate,
    nbf: Option<NumericDate>,
    roles: Option<Vec<String>>,
    cases: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct Subject {
    id: SubjectId,
}

/// The original application's identity provider sends numeric ids; others send strings.
#[derive(Deserialize)]
#[serde(untagged)]
enum SubjectId {
    Text(String),
    Unsigned(u64),
    Signed(i64),
}

/// Seconds since the Unix epoch; RFC 7519 allows fractions.
#[derive(Deserialize)]
#[serde(untagged)]
enum NumericDate {
    Whole(i64),
    Fraction(f64),
}

impl NumericDate {
    fn seconds(&self) -> i64 {
        match *self {
            Self::Whole(seconds) => seconds,
            // Saturating: an absurd value cannot wrap around into a valid one.
            Self::Fraction(seconds) => seconds as i64,
        }
    }
}

impl JwtVerifier {
    /// A verifier for tokens signed with the private half of `public_key_pem` and issued by
    /// `issuer`.
    ///
    /// # Errors
    /// If the PEM is not an RSA public key.
    pub fn from_rsa_pem(public_key_pem: &[u8], issuer: &str) -> Result<Self, jsonwebtoken::errors::Error> {
        let key = DecodingKey::from_rsa_pem(public_key_pem)?;
        Ok(Self { key, issuer: issuer.to_owned(), verified: Arc::default() })
    }

    /// Verifies a token and reads its user.
    ///
    /// # Errors
    /// [`AuthFailure::Invalid`] for anything but a valid token.
    pub fn verify(&self, token: &str) -> Result<Verified, AuthFailure> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut remembered = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
        match remembered.get(&digest) {
            Some(verified) if !expired(verified.expires_at, now) => return Ok(verified.clone()),
            Some(_) => {
                remembered.remove(&digest);
            }
            None => {}
        }
        drop(remembered);
        let verified = self.check(token).map_err(|reason| {
            // A fixed reason: the token and its claims stay out of the logs.
            tracing::debug!(reason, "token refused");
            AuthFailure::Invalid
        })?;
        let mut remembered = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
        if remembered.len() >= REMEMBERED_TOKENS {
            remembered.retain(|_, v| !expired(v.expires_at, now));
            if remembered.len() >= REMEMBERED_TOKENS {
                remembered.clear();
            }
        }
        remembered.insert(digest, verified.clone());
        Ok(verified)
    }

    fn check(&self, token: &str) -> Result<Verified, &'static str> {
        // Only RS256: no `none`, no HS256 keyed with the public key.
        let header = jsonwebtoken::decode_header(token).map_err(|_| "malformed header")?;
        if header.alg != Algorithm::RS256 {
            return Err("wrong algorithm");
        }
        let (message, signature) = token.rsplit_once('.').ok_or("malformed")?;
        if message.matches('.').count() != 1 {
            return Err("malformed");
        }
        let valid = jsonwebtoken::crypto::verify(signature, message.as_bytes(), &self.key, Algorithm::RS256)
            .map_err(|_| "malformed signature")?;
        if !valid {
            return Err("bad signature");
        }
        self.check_claims(token)
    }

    /// The step of [`check`](Self::check) after the signature: reads the claims and checks
    /// `exp`, `nbf`, `iss` and `sub.id`. Only for a token whose signature is valid.
    pub(crate) fn check_claims(&self, token: &str) -> Result<Verified, &'static str> {
        // The signature is valid, so the claims are the identity provider's. Only a JSON
        // object with an object `sub` may pass (a `Map` refuses anything else).
        let claims: serde_json::Map<String, serde_json::Value> =
            jsonwebtoken::dangerous::insecure_decode_claims(token).map_err(|_| "claims are not an object")?;
        if !claims.get("sub").is_some_and(serde_json::Value::is_object) {
            return Err("sub is not an object");
        }
        let claims: Claims = serde_json::from_value(serde_json::Value::Object(claims))
            .map_err(|_| "missing or malformed claims")?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let expires_at = claims.exp.seconds();
        if expired(expires_at, now) {
            return Err("expired");
        }
        if claims.nbf.is_some_and(|nbf| nbf.seconds() > now.saturating_add(LEEWAY_SECONDS)) {
            return Err("not yet valid");
        }
        if claims.iss != self.issuer {
            return Err("wrong issuer");
        }
        let id = match claims.sub.id {
            SubjectId::Text(id) => id,
            SubjectId::Unsigned(id) => id.to_string(),
            SubjectId::Signed(id) => id.to_string(),
        };
        let actor = Actor::new(id).map_err(|_| "unusable sub.id")?;
        // Roles of other applications may share the claim: names renraku does not know
        // grant nothing here.
        let roles =
            claims.roles.map(|names| names.iter().filter_map(|name| name.parse::<Role>().ok()).collect());
        let cases = match claims.cases {
            None => None,
            Some(ids) => {
                let cases = ids.iter().map(|id| id.parse::<CaseId>()).collect::<Result<Vec<_>, _>>();
                match cases {
                    Ok(cases) if !cases.iter().any(CaseId::is_across_cases) => Some(Arc::from(cases)),
                    _ => return Err("malformed cases"),
                }
            }
        };
        Ok(Verified { actor, roles, cases, expires_at })
    }
}

/// Whether a token that expires at `expires_at` is expired at `now` (both in seconds since
/// the Unix epoch), allowing for clock skew.
fn expired(expires_at: i64, now: i64) -> bool {
    expires_at.saturating_add(LEEWAY_SECONDS) < now
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifier").field("issuer", &self.issuer).finish_non_exhaustive()
    }
}

/// How requests are authenticated.
#[derive(Debug, Clone)]
pub enum Auth {
    /// Every request needs a valid token.
    Jwt(JwtVerifier),
    /// Development only: every request acts as [`DEV_ACTOR`]. The sign-in page still
    /// verifies tokens with `verifier`, if there is one.
    Disabled {
        /// A verifier for the sign-in page, if a key was configured.
        verifier: Option<JwtVerifier>,
    },
}

/// Where a token may come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The `Authorization` header only: the JSON API.
    HeaderOnly,
    /// The header, else the session cookie: the HTML pages.
    HeaderOrCookie,
}

impl Auth {
    /// Whether authentication is disabled.
    #[must_use]
    pub fn is_disabled(&self) -> bool {
        matches!(self, Self::Disabled { .. })
    }

    /// The verifier of the sign-in page.
    pub(crate) fn verifier(&self) -> Option<&JwtVerifier> {
        match self {
            Self::Jwt(verifier) => Some(verifier),
            Self::Disabled { verifier } => verifier.as_ref(),
        }
    }

    /// The user of a request, with the roles of its token (or `default_roles`).
    fn authenticate(
        &self,
        headers: &HeaderMap,
        source: Source,
        secure: bool,
        default_roles: Roles,
    ) -> Result<Principal, AuthFailure> {
        let verifier = match self {
            Self::Jwt(verifier) => verifier,
            Self::Disabled { .. } => {
                return Ok(Principal { actor: dev_actor().with_roles(default_roles.iter()), cases: None });
            }
        };
        let principal = |verified: Verified| Principal {
            actor: verified.actor.with_roles(verified.roles.unwrap_or(default_roles).iter()),
            cases: verified.cases,
        };
        // A header that is present decides, even if a cookie is there too.
        if let Some(value) = headers.get(header::AUTHORIZATION) {
            let value = value.to_str().map_err(|_| AuthFailure::Invalid)?;
            return verifier.verify(strip_bearer(value)).map(principal);
        }
        if source == Source::HeaderOrCookie
            && let Some(token) = session_cookie(headers, secure)
        {
            return verifier.verify(&token).map(principal);
        }
        Err(AuthFailure::Missing)
    }
}

fn dev_actor() -> Actor {
    Actor::new(DEV_ACTOR).expect("the development actor id is valid")
}

/// The token of an `Authorization` header (or of the sign-in form), with or without the
/// `Bearer ` prefix.
pub(crate) fn strip_bearer(value: &str) -> &str {
    let value = value.trim();
    match value.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("bearer ") => value[7..].trim_start(),
        _ => value,
    }
}

/// The user of an HTML page, with the page's layout and the store as the user may use it;
/// a request without a valid token answers a 401 page that links to the sign-in page.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) actor: Actor,
    pub(crate) layout: Layout,
    pub(crate) store: Guarded,
}

impl FromRequestParts<AppState> for Session {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match state.auth().authenticate(
            &parts.headers,
            Source::HeaderOrCookie,
            state.secure_cookies(),
            state.default_roles(),
        ) {
            Ok(principal) => {
                let layout = Layout::from_parts(parts, state, Some(&principal));
                let store = principal.store(state.shared_store());
                Ok(Self { actor: principal.actor, layout, store })
            }
            Err(failure) => Err(HttpError::unauthorized(failure, parts.uri.path())),
        }
    }
}

/// The signed-in user of a public page, if any.
pub(crate) fn optional_actor(headers: &HeaderMap, state: &AppState) -> Option<Principal> {
    state
        .auth()
        .authenticate(headers, Source::HeaderOrCookie, state.secure_cookies(), state.default_roles())
        .ok()
}

/// The user of a JSON API request, and the store as the user may use it: from the
/// `Authorization` header only (the cookie is for the HTML pages, which have CSRF
/// protection).
#[derive(Debug)]
pub(crate) struct ApiActor(pub(crate) Actor, pub(crate) Guarded);

impl FromRequestParts<AppState> for ApiActor {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        state
            .auth()
            .authenticate(&parts.headers, Source::HeaderOnly, state.secure_cookies(), state.default_roles())
            .map(|principal| {
                let store = principal.store(state.shared_store());
                Self(principal.actor, store)
            })
            .map_err(|failure| HttpError::unauthorized(failure, parts.uri.path()))
    }
}

/// Whether a host name (without port) names this machine: `localhost`, a name under
/// `.localhost` (RFC 6761), or a loopback address.
fn is_loopback_name(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// With authentication disabled, only requests for a loopback host name are served. A page
/// of another site whose name was made to resolve to 127.0.0.1 (DNS rebinding) sends its
/// own name as `Host`, and is refused.
///
/// # Errors
/// `403 Forbidden` for any other host while authentication is disabled.
pub(crate) fn loopback_hosts_only(state: &AppState, request: &Request) -> Result<(), HttpError> {
    if state.auth().is_disabled() {
        let host = request.headers().get(header::HOST).and_then(|v| v.to_str().ok()).or(request.uri().host());
        if !host.is_some_and(|host| is_loopback_name(crate::csrf::host_name(host))) {
            let message = "Authentication is disabled on this server, so it answers only requests for a \
                           loopback host name such as localhost or 127.0.0.1.";
            return Err(HttpError::new(StatusCode::FORBIDDEN, message));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC: &[u8] = include_bytes!("../tests/fixtures/test-public.pem");
    const PRIVATE: &[u8] = include_bytes!("../tests/fixtures/test-private.pem");

    fn sign(claims: &serde_json::Value) -> String {
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(PRIVATE).unwrap();
        jsonwebtoken::encode(&jsonwebtoken::Header::new(Algorithm::RS256), claims, &key).unwrap()
    }

    fn now() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }

    #[test]
    fn claims_are_checked_after_the_signature() {
        let verifier = JwtVerifier::from_rsa_pem(PUBLIC, "parc-cli").unwrap();
        let ok = serde_json::json!({ "sub": { "id": 42 }, "iss": "parc-cli", "exp": now() + 60 });
        let verified = verifier.verify(&sign(&ok)).unwrap();
        assert_eq!(verified.actor.as_str(), "42");
        assert_eq!(verified.expires_at, ok["exp"].as_i64().unwrap());

        let fractional =
            serde_json::json!({ "sub": { "id": "a" }, "iss": "parc-cli", "exp": now() as f64 + 60.5 });
        assert!(verifier.verify(&sign(&fractional)).is_ok());
        let within_leeway = serde_json::json!({ "sub": { "id": "a" }, "iss": "parc-cli", "exp": now() - 30 });
        assert!(verifier.verify(&sign(&within_leeway)).is_ok());
        let not_yet = serde_json::json!({ "sub": { "id": "a" }, "iss": "parc-cli", "exp": now() + 600, "nbf": now() + 300 });
        assert_eq!(verifier.check(&sign(&not_yet)).unwrap_err(), "not yet valid");
        let expired = serde_json::json!({ "sub": { "id": "a" }, "iss": "parc-cli", "exp": now() - 120 });
        assert_eq!(verifier.check(&sign(&expired)).unwrap_err(), "expired");
        let control = serde_json::json!({ "sub": { "id": "a\nb" }, "iss": "parc-cli", "exp": now() + 60 });
        assert_eq!(verifier.check(&sign(&control)).unwrap_err(), "unusable sub.id");
        let four_parts = format!("{}.x", sign(&ok));
        assert!(verifier.verify(&four_parts).is_err());
    }

    #[test]
    fn verified_tokens_are_remembered_until_they_expire() {
        let verifier = JwtVerifier::from_rsa_pem(PUBLIC, "parc-cli").unwrap();
        let token = sign(&serde_json::json!({ "sub": { "id": "a" }, "iss": "parc-cli", "exp": now() + 60 }));
        assert!(verifier.verify(&token).is_ok());
        assert!(verifier.verify(&token).is_ok(), "again, from memory");
        assert_eq!(verifier.verified.lock().unwrap().len(), 1);
        let remembered = verifier.verified.lock().unwrap().keys().next().copied().unwrap();
        assert!(
            !remembered.windows(8).any(|w| token.as_bytes().windows(8).any(|t| t == w)),
            "a digest, not the token"
        );

        // A remembered token that has expired since is refused, and forgotten.
        verifier.verified.lock().unwrap().values_mut().for_each(|v| v.expires_at = now() - 120);
        let expired_in_memory = verifier.verify(&token);
        assert!(expired_in_memory.is_ok(), "checked again: the token itself is still valid");
        let stale = sign(&serde_json::json!({ "sub": { "id": "a" }, "iss": "parc-cli", "exp": now() - 120 }));
        assert_eq!(verifier.verify(&stale).unwrap_err(), AuthFailure::Invalid);
        assert_eq!(verifier.verified.lock().unwrap().len(), 1, "refused tokens are not remembered");
    }

    #[test]
    fn only_an_object_of_claims_passes() {
        let verifier = JwtVerifier::from_rsa_pem(PUBLIC, "parc-cli").unwrap();
        let array = serde_json::json!([["user"], "parc-cli", now() + 60]);
        assert_eq!(verifier.check(&sign(&array)).unwrap_err(), "claims are not an object");
        let sub_array = serde_json::json!({ "sub": ["user"], "iss": "parc-cli", "exp": now() + 60 });
        assert_eq!(verifier.check(&sign(&sub_array)).unwrap_err(), "sub is not an object");
        let object = serde_json::json!({ "sub": { "id": "user" }, "iss": "parc-cli", "exp": now() + 60 });
        assert_eq!(verifier.check(&sign(&object)).unwrap().actor.as_str(), "user");
    }

    #[test]
    fn roles_and_cases_come_from_their_claims() {
        let verifier = JwtVerifier::from_rsa_pem(PUBLIC, "parc-cli").unwrap();
        let base = || serde_json::json!({ "sub": { "id": "u" }, "iss": "parc-cli", "exp": now() + 60 });
        let plain = verifier.check(&sign(&base())).unwrap();
        assert_eq!((plain.roles, plain.cases), (None, None), "without the claims: defaults, every case");

        let mut claims = base();
        claims["roles"] = serde_json::json!(["reader", "auditor", "admin", "Reader"]);
        claims["cases"] = serde_json::json!(["42", "t-7"]);
        let verified = verifier.check(&sign(&claims)).unwrap();
        let roles: Roles = [Role::Reader, Role::Auditor].into_iter().collect();
        assert_eq!(verified.roles, Some(roles), "unknown names grant nothing");
        let cases: Vec<String> = verified.cases.unwrap().iter().map(ToString::to_string).collect();
        assert_eq!(cases, ["42", "t-7"]);
        claims["roles"] = serde_json::json!([]);
        assert_eq!(verifier.check(&sign(&claims)).unwrap().roles, Some(Roles::NONE));

        for (claim, value, reason) in [
            ("roles", serde_json::json!("reader"), "missing or malformed claims"),
            ("roles", serde_json::json!([1]), "missing or malformed claims"),
            ("cases", serde_json::json!("42"), "missing or malformed claims"),
            ("cases", serde_json::json!(["42", "no spaces"]), "malformed cases"),
            ("cases", serde_json::json!(["*"]), "malformed cases"),
        ] {
            let mut claims = base();
            claims[claim] = value;
            assert_eq!(verifier.check(&sign(&claims)).unwrap_err(), reason, "{claims}");
        }
    }

    #[test]
    fn loopback_names_are_recognised() {
        for host in ["localhost", "LOCALHOST.", "app.localhost", "127.0.0.1", "127.3.2.1", "::1"] {
            assert!(is_loopback_name(host), "{host}");
        }
        for host in ["evil.example", "localhost.evil.example", "10.0.0.1", "0.0.0.0", "::", ""] {
            assert!(!is_loopback_name(host), "{host}");
        }
    }

    #[test]
    fn bearer_prefix_is_optional() {
        assert_eq!(strip_bearer("Bearer abc"), "abc");
        assert_eq!(strip_bearer("bearer  abc "), "abc");
        assert_eq!(strip_bearer("abc"), "abc");
        assert_eq!(strip_bearer("Bear"), "Bear");
    }
}
