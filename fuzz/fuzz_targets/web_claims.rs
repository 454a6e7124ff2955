//! The web example's token claims, the step after a valid signature (the RSA check itself is
//! jsonwebtoken's): never a panic; a token is accepted only with the verifier's issuer, a
//! `sub.id` that is a valid actor id, an `exp` not in the past and an `nbf` not in the
//! future (both with the minute of leeway); for well-formed claims, exactly then. And the
//! `Bearer ` prefix of a header comes off as the docs say.

#![no_main]

use std::sync::LazyLock;

use arbitrary::Arbitrary;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use renraku_core::Actor;
use renraku_web::JwtVerifier;
use renraku_web::fuzzing::{check_claims, strip_bearer, verifier};
use serde_json::{Value, json};

const ISSUER: &str = "https://id.example.org";
const LEEWAY: i64 = 60;

static VERIFIER: LazyLock<JwtVerifier> = LazyLock::new(|| verifier(ISSUER));

#[derive(Debug, Arbitrary)]
enum Id {
    Text(String),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Bool(bool),
    Missing,
}

#[derive(Debug, Arbitrary)]
enum Date {
    /// Seconds from now.
    Offset(i32),
    /// Seconds from now, with a fraction.
    Fraction(i32, u8),
    Absolute(i64),
    Text(String),
    Missing,
}

#[derive(Debug, Arbitrary)]
struct Claims {
    id: Id,
    issuer: Option<String>,
    exp: Date,
    nbf: Date,
    header_prefix: u8,
}

#[derive(Debug, Arbitrary)]
enum Input<'a> {
    /// Well-formed claims: the outcome is known.
    Claims(Claims),
    /// Any bytes as the claims.
    Raw(&'a [u8]),
    /// Any text as the value of an `Authorization` header.
    Header(&'a str),
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn token(claims: &[u8]) -> String {
    format!("eyJhbGciOiJSUzI1NiJ9.{}.c2ln", URL_SAFE_NO_PAD.encode(claims))
}

fuzz_target!(|input: Input<'_>| {
    match input {
        Input::Claims(claims) => well_formed(claims),
        Input::Raw(bytes) => {
            let result = check_claims(&VERIFIER, &token(bytes));
            if let Ok((actor, expires_at)) = result {
                // Accepted: the claims say so, read independently.
                // serde_json skips the values of unknown keys without checking their UTF-8.
                let text = String::from_utf8_lossy(bytes);
                let value: Value = serde_json::from_str(&text).expect("accepted claims are JSON");
                assert_eq!(value["iss"], ISSUER);
                let id = match &value["sub"]["id"] {
                    Value::String(s) => s.clone(),
                    Value::Number(n) if n.is_u64() || n.is_i64() => n.to_string(),
                    other => panic!("accepted sub.id {other}"),
                };
                assert_eq!(actor, id);
                assert!(Actor::new(actor).is_ok());
                assert!(expires_at.saturating_add(LEEWAY) >= now() - 1, "accepted an expired token");
            }
        }
        Input::Header(value) => {
            let token = strip_bearer(value);
            let trimmed = value.trim();
            assert!(trimmed.ends_with(token) || token.is_empty());
            let prefixed = trimmed.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("bearer "));
            if prefixed {
                assert_eq!(token, trimmed[7..].trim_start());
            } else {
                assert_eq!(token, trimmed);
            }
        }
    }
});

fn date(date: &Date, now: i64) -> (Option<Value>, Option<i64>) {
    match date {
        Date::Offset(s) => (Some(json!(now + i64::from(*s))), Some(now + i64::from(*s))),
        Date::Fraction(s, f) => {
            let value = (now + i64::from(*s)) as f64 + f64::from(*f) / 256.0;
            (Some(json!(value)), Some(value as i64))
        }
        Date::Absolute(s) => (Some(json!(s)), Some(*s)),
        Date::Text(t) => (Some(json!(t)), None),
        Date::Missing => (None, None),
    }
}

fn well_formed(claims: Claims) {
    let now = now();
    let mut value = json!({});
    let id = match &claims.id {
        Id::Text(s) => {
            value["sub"] = json!({ "id": s });
            Actor::new(s.as_str()).ok().map(|a| a.as_str().to_owned())
        }
        Id::Unsigned(n) => {
            value["sub"] = json!({ "id": n });
            Some(n.to_string())
        }
        Id::Signed(n) => {
            value["sub"] = json!({ "id": n });
            Some(n.to_string())
        }
        Id::Float(f) => {
            value["sub"] = json!({ "id": f });
            // JSON has no NaN or infinity: serde_json writes them as null.
            None
        }
        Id::Bool(b) => {
            value["sub"] = json!({ "id": b });
            None
        }
        Id::Missing => {
            value["sub"] = json!({});
            None
        }
    };
    if let Some(issuer) = &claims.issuer {
        value["iss"] = json!(issuer);
    }
    let (exp, exp_seconds) = date(&claims.exp, now);
    if let Some(exp) = exp {
        value["exp"] = exp;
    }
    let (nbf, nbf_seconds) = date(&claims.nbf, now);
    let nbf_ok = match (&nbf, nbf_seconds) {
        (None, _) => true,
        (Some(_), Some(nbf)) => nbf <= now + LEEWAY,
        (Some(_), None) => false,
    };
    if let Some(nbf) = nbf {
        value["nbf"] = nbf;
    }
    // A float id that is a whole number in range reads as an integer in JSON text.
    let id = match (&claims.id, id) {
        (Id::Float(f), _) => {
            let text = serde_json::to_string(&value["sub"]["id"]).unwrap();
            if text.contains(['.', 'e', 'E']) || text == "null" { None } else { Some(text) }
                .filter(|_| f.is_finite())
        }
        (_, id) => id,
    };
    let expires_at = exp_seconds.filter(|exp| exp.saturating_add(LEEWAY) >= now);
    // Within a second of a boundary, the clock may have moved on: no verdict.
    let near = |t: Option<i64>, edge: i64| t.is_some_and(|t| (i128::from(t) - i128::from(edge)).abs() <= 1);
    if near(exp_seconds, now - LEEWAY) || near(nbf_seconds, now + LEEWAY) {
        return;
    }
    let accept = id.is_some() && claims.issuer.as_deref() == Some(ISSUER) && expires_at.is_some() && nbf_ok;

    let mut token = token(&serde_json::to_vec(&value).unwrap());
    let header = match claims.header_prefix % 4 {
        0 => token.clone(),
        1 => format!("Bearer {token}"),
        2 => format!("  bEaReR   {token} "),
        _ => format!("{token}\t"),
    };
    assert_eq!(strip_bearer(&header), token);
    let result = check_claims(&VERIFIER, &token);
    match (&result, accept) {
        (Ok((actor, exp)), true) => {
            assert_eq!(Some(actor), id.as_ref());
            assert_eq!(Some(*exp), expires_at);
        }
        (Err(_), false) => {}
        (result, _) => panic!("claims {value}: {result:?}, expected accept = {accept}"),
    }
    token.clear();
}
