//! Ids, cursors, page limits and actors from text: parsing never panics, accepts exactly
//! what the docs say, and what it accepts round-trips through `Display` and serde.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use renraku_core::{Actor, AuditEventId, CaseId, ContactId, Cursor, Error, IdKind, PageLimit, PageRequest};
use uuid::Uuid;

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    limit: u32,
    clamped: u16,
    text: &'a str,
}

fuzz_target!(|input: Input<'_>| {
    let text = input.text;

    // Case ids: 1 to 64 of ASCII letters, digits, `-`, `_`, `.`, `:`.
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':');
    let valid_case = !text.is_empty() && text.len() <= CaseId::MAX_LEN && text.chars().all(allowed);
    match text.parse::<CaseId>() {
        Ok(id) => {
            assert!(valid_case, "accepted a case id the docs refuse");
            assert_eq!(id.as_str(), text);
            assert!(!id.is_across_cases());
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(serde_json::from_str::<CaseId>(&json).unwrap(), id);
            assert_eq!(id.to_string().parse::<CaseId>().unwrap(), id);
        }
        Err(err) => {
            assert!(!valid_case, "refused a case id the docs accept");
            assert!(matches!(err, Error::InvalidId { kind: IdKind::Case }));
            assert_eq!(err.to_string(), "invalid case id");
        }
    }
    // From serde, only the across-cases marker is added.
    let from_json = serde_json::from_value::<CaseId>(serde_json::Value::String(text.to_owned()));
    assert_eq!(from_json.is_ok(), valid_case || text == "*");

    // Contact ids, audit event ids and cursors: exactly the UUIDs `uuid` parses.
    let uuid = Uuid::try_parse(text).ok();
    let contact_id = text.parse::<ContactId>();
    assert_eq!(contact_id.as_ref().ok().map(|id| *id.as_uuid()), uuid);
    if let Ok(id) = contact_id {
        assert_eq!(id.to_string().parse::<ContactId>().unwrap(), id);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<ContactId>(&json).unwrap(), id);
    } else if let Err(err) = contact_id {
        assert!(matches!(err, Error::InvalidId { kind: IdKind::Contact }));
    }
    let event_id = text.parse::<AuditEventId>();
    assert_eq!(event_id.as_ref().ok().map(|id| *id.as_uuid()), uuid);
    match text.parse::<Cursor>() {
        Ok(cursor) => {
            assert_eq!(Some(cursor.position()), uuid);
            let shown = cursor.to_string();
            assert!(shown.len() == 32 && shown.bytes().all(|b| b.is_ascii_hexdigit()), "URL-safe");
            assert_eq!(shown.parse::<Cursor>().unwrap(), cursor);
            let json = serde_json::to_string(&cursor).unwrap();
            assert_eq!(serde_json::from_str::<Cursor>(&json).unwrap(), cursor);
            assert!(!format!("{cursor:?}").is_empty());
        }
        Err(err) => {
            assert!(uuid.is_none());
            assert!(matches!(err, Error::InvalidId { kind: IdKind::Cursor }));
        }
    }
    let cursor_json = serde_json::from_value::<Cursor>(serde_json::Value::String(text.to_owned()));
    assert_eq!(cursor_json.ok().map(|c| c.position()), uuid);

    // Page limits: 1 to 500, from a number and from serde; `clamped` is always in range.
    let limit = PageLimit::new(input.limit);
    assert_eq!(limit.is_ok(), (1..=500).contains(&input.limit));
    match limit {
        Ok(limit) => {
            assert_eq!(limit.get(), input.limit as usize);
            assert_eq!(u32::from(limit), input.limit);
            assert_eq!(serde_json::from_str::<PageLimit>(&input.limit.to_string()).unwrap(), limit);
            let request = PageRequest::first(limit);
            assert_eq!(request.limit, limit);
        }
        Err(err) => {
            let errors = err.validation_errors().expect("a validation error");
            assert_eq!(errors.iter().next().unwrap().field, "limit");
            assert!(serde_json::from_str::<PageLimit>(&input.limit.to_string()).is_err());
        }
    }
    let clamped = PageLimit::clamped(input.clamped).get();
    assert!((1..=500).contains(&clamped));
    assert_eq!(clamped, usize::from(input.clamped).clamp(1, 500));
    // The web example reads `?limit=` as text: the same rule.
    if let Ok(n) = text.trim().parse::<u32>() {
        assert_eq!(PageLimit::new(n).is_ok(), (1..=500).contains(&n));
    }
    let _ = serde_json::from_str::<PageLimit>(text);

    // Actors: 1 to 256 characters, not blank, under the text policy; the id is kept as is.
    match Actor::new(text) {
        Ok(actor) => {
            assert!(!text.trim().is_empty() && text.chars().count() <= Actor::MAX_LEN);
            assert!(!text.chars().any(char::is_control));
            assert_eq!(actor.as_str(), text);
            let json = serde_json::to_string(&actor).unwrap();
            assert_eq!(serde_json::from_str::<Actor>(&json).unwrap(), actor);
        }
        Err(err) => {
            assert!(matches!(err, Error::InvalidId { kind: IdKind::Actor }));
            assert_eq!(err.to_string(), "invalid actor id");
        }
    }
});
