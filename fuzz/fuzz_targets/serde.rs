//! The serde types from JSON: reading any text never panics; what is read writes back to
//! the same value; a `Contact` that is read passes the checks its docs promise (so that a
//! backend or a plan given one cannot break), and `Debug` shows none of its values.

#![no_main]

use libfuzzer_sys::fuzz_target;
use renraku_core::validation::normalize_field;
use renraku_core::{
    Actor, AuditAction, AuditEvent, Case, CaseId, Contact, ContactField, ContactId, ContactPatch,
    ContactQuery, Cursor, FieldPatch, NewContact, Page, PageLimit, Rules, SearchKeys, plan,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, json)) = data.split_first() else { return };
    match kind % 12 {
        0 => {
            if let Some(contact) = round_trip::<Contact>(json) {
                check_contact(&contact);
            }
        }
        1 => {
            if let Some(new) = round_trip::<NewContact>(json) {
                let twin =
                    ContactField::ALL.into_iter().fold(NewContact::default(), |t, f| match new.field(f) {
                        Some(_) => t.with(f, "x"),
                        None => t,
                    });
                assert_eq!(format!("{new:?}"), format!("{twin:?}"), "Debug shows a value");
                let _ = Rules::default().check_new(new);
            }
        }
        2 => {
            if let Some(patch) = round_trip::<ContactPatch>(json) {
                let twin = ContactField::ALL.into_iter().fold(ContactPatch::default(), |t, f| {
                    match patch.field(f) {
                        FieldPatch::Keep => t,
                        FieldPatch::Clear => t.clear(f),
                        FieldPatch::Set(_) => t.set(f, "x"),
                    }
                });
                assert_eq!(format!("{patch:?}"), format!("{twin:?}"), "Debug shows a value");
                let _ = Rules::default().check_patch(patch);
            }
        }
        3 => {
            if let Some(page) = round_trip::<Page<Contact>>(json) {
                page.items.iter().for_each(check_contact);
            }
        }
        4 => drop(round_trip::<AuditEvent>(json)),
        5 => drop(round_trip::<Case>(json)),
        6 => drop(round_trip::<CaseId>(json)),
        7 => drop(round_trip::<ContactId>(json)),
        8 => drop(round_trip::<Cursor>(json)),
        9 => {
            if let Some(limit) = round_trip::<PageLimit>(json) {
                assert!((1..=500).contains(&limit.get()));
            }
        }
        10 => drop(round_trip::<Actor>(json)),
        _ => {
            if let Some(field) = round_trip::<ContactField>(json) {
                assert_eq!(field.name().parse::<ContactField>(), Ok(field));
            }
            if let Some(action) = round_trip::<AuditAction>(json) {
                assert_eq!(action.as_str().parse::<AuditAction>(), Ok(action));
            }
            drop(round_trip::<Page<AuditEvent>>(json));
        }
    }
});

/// Reads `json` as `T`; if it is one, writing it and reading that gives the same value.
fn round_trip<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(json: &[u8]) -> Option<T> {
    let value: T = serde_json::from_slice(json).ok()?;
    let written = serde_json::to_vec(&value).expect("a value that was read can be written");
    let again: T = serde_json::from_slice(&written).expect("what was written can be read");
    assert!(again == value, "a value changed on its way through JSON");
    Some(value)
}

/// What `Contact`'s docs promise of one that was read, and what it must survive.
fn check_contact(contact: &Contact) {
    for field in ContactField::ALL {
        if let Some(value) = contact.field(field) {
            assert_eq!(normalize_field(field, value).as_deref(), Some(value), "{field} is not normalized");
            assert!(value.chars().count() <= field.max_chars());
        }
    }
    assert_eq!(contact.phone.is_some(), contact.phone_e164.is_some());
    assert!(ContactField::REACHABLE.iter().any(|f| contact.field(*f).is_some()), "nobody to contact");
    assert!(contact.version >= 1 && contact.updated_at >= contact.created_at);

    renraku_fuzz::assert_debug_hides_contact(contact);

    // What a backend does with a contact it read: keys, search, update, delete.
    let keys = SearchKeys::of(contact);
    assert_eq!(keys.phone, contact.phone_e164);
    let rules = Rules::default();
    for name in keys.names() {
        let prefix: String = name.chars().take(3).collect();
        let _ = rules.check_query(ContactQuery::NamePrefix(prefix)).map(|key| key.matches(contact));
    }
    let actor = Actor::new("clerk-1").unwrap();
    let patch = rules.check_patch(ContactPatch::default().set(ContactField::Title, "Dr. X")).unwrap();
    match plan::update(contact, &patch, Some(contact.version), &actor) {
        Ok(Some(change)) => assert_eq!(change.contact.version, contact.version + 1),
        Ok(None) => assert_eq!(contact.title.as_deref(), Some("Dr. X")),
        Err(err) => assert_eq!(contact.version, u64::MAX, "{err}"),
    }
    let clear = rules.check_patch(ContactPatch::default().clear(ContactField::Phone)).unwrap();
    let _ = plan::update(contact, &clear, None, &actor);
    assert!(plan::delete(contact, Some(contact.version), &actor).is_ok());
    let _ = CaseId::new(contact.case_id.as_str());
}
