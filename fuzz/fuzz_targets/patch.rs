//! Validation and planning of patches (updates) and deletes, on contacts at any version:
//!
//! - no input panics; a checked patch is normalized, and checking it again changes nothing;
//! - `plan::update` does exactly what the patch says: a conflict for a stale version,
//!   nothing (no version, no event) when nothing changes, otherwise the new values, one more
//!   version, the changed fields in order, the search keys and E.164 form of the new state;
//!   and the same patch again changes nothing;
//! - no error and no `Debug` output shows a value; patches round-trip through JSON.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use renraku_core::validation::{code, normalize_field};
use renraku_core::{
    AuditAction, CheckedPatch, Contact, ContactField, ContactPatch, ContactQuery, Error, FieldPatch,
    NewContact, SearchKeys, plan,
};
use renraku_fuzz::{
    PatchOp, Value, actor, assert_error_hides, assert_hides, case, contact_patch, new_contact, patch_values,
    values,
};
use unicode_normalization::is_nfc;

#[derive(Debug, Arbitrary)]
enum Base {
    /// A contact with every field set.
    Full,
    /// A contact created from these values (the full one if they are invalid).
    New([Option<Value>; ContactField::COUNT]),
}

#[derive(Debug, Arbitrary)]
enum Version {
    Created,
    Max,
    BelowMax,
    Any(u64),
}

#[derive(Debug, Arbitrary)]
enum Expected {
    Unconditional,
    Current,
    Other(u64),
}

#[derive(Debug, Arbitrary)]
struct Input {
    rules: u8,
    base: Base,
    version: Version,
    ops: [PatchOp; ContactField::COUNT],
    expected: Expected,
}

fn full() -> NewContact {
    NewContact::default()
        .with(ContactField::Title, "Dr.")
        .with(ContactField::FirstName, "Zoë-Marie")
        .with(ContactField::LastName, "O'Brien")
        .with(ContactField::Phone, "+49 30 1234567")
        .with(ContactField::Email, "zoe@example.org")
        .with(ContactField::Address, "Hauptstraße 1\n10115 Berlin")
        .with(ContactField::Relationship, "household")
}

fuzz_target!(|input: Input| {
    let rules = renraku_fuzz::rules(input.rules);
    let new = match &input.base {
        Base::Full => full(),
        Base::New(fields) => new_contact(&values(fields)),
    };
    let mut base = plan::create(&rules, &case(0), new, &actor())
        .or_else(|_| plan::create(&rules, &case(0), full(), &actor()))
        .expect("the full contact is valid")
        .contact;
    base.version = match input.version {
        Version::Created => 1,
        Version::Max => u64::MAX,
        Version::BelowMax => u64::MAX - 1,
        Version::Any(v) => v,
    };
    let expected = match input.expected {
        Expected::Unconditional => None,
        Expected::Current => Some(base.version),
        Expected::Other(v) => Some(v),
    };

    let raw = patch_values(&input.ops);
    let set_values: Vec<&str> =
        raw.iter().filter_map(|p| if let FieldPatch::Set(v) = p { Some(v.as_str()) } else { None }).collect();
    let patch = contact_patch(&raw);
    assert_hides(&format!("{patch:?}"), set_values.iter().copied());
    let json = serde_json::to_string(&patch).unwrap();
    assert_eq!(serde_json::from_str::<ContactPatch>(&json).unwrap(), patch, "a patch round-trips");

    let checked = match rules.check_patch(patch) {
        Err(err) => {
            let Error::Validation(errors) = &err else { panic!("not a validation error: {err}") };
            for error in errors {
                assert_ne!(error.code, code::EMPTY_CONTACT, "checked only when applied");
                assert!(ContactField::ALL.iter().any(|f| f.name() == error.field));
                let field: ContactField = error.field.parse().unwrap();
                assert!(matches!(raw[field.index()], FieldPatch::Set(_)), "an error for a field not set");
            }
            assert_error_hides(&err, &set_values);
            return;
        }
        Ok(checked) => checked,
    };
    assert_hides(&format!("{checked:?}"), set_values.iter().copied());
    for field in ContactField::ALL {
        match (&raw[field.index()], checked.field(field)) {
            (FieldPatch::Keep, FieldPatch::Keep) | (FieldPatch::Clear, FieldPatch::Clear) => {}
            (FieldPatch::Set(entered), FieldPatch::Clear) => {
                assert_eq!(normalize_field(field, entered), None, "{field}: cleared a value")
            }
            (FieldPatch::Set(entered), FieldPatch::Set(value)) => {
                assert_eq!(normalize_field(field, entered).as_ref(), Some(value));
                assert!(is_nfc(value) && value.chars().count() <= field.max_chars());
                assert_eq!(normalize_field(field, value).as_ref(), Some(value), "{field} normalizes again");
            }
            (entered, checked) => panic!("{field}: {entered:?} became {checked:?}"),
        }
    }
    let again = rules.check_patch(patch_of(&checked)).expect("a checked patch is accepted again");
    assert_eq!(again, checked, "checking a checked patch changes it");

    // Planning the update.
    let planned = plan::update(&base, &checked, expected, &actor());
    if let Some(v) = expected.filter(|v| *v != base.version) {
        assert!(
            matches!(planned, Err(Error::Conflict { expected: Some(e), current }) if e == v && current == base.version)
        );
        assert!(matches!(plan::delete(&base, expected, &actor()), Err(Error::Conflict { .. })));
        return;
    }
    let event = plan::delete(&base, expected, &actor()).expect("a delete at the current version");
    assert_eq!(event.changed_fields, base.present_fields().collect::<Vec<_>>());

    let mut next = ContactField::ALL.map(|f| base.field(f).map(str::to_owned));
    let mut changed = Vec::new();
    for field in ContactField::ALL {
        let value = match checked.field(field) {
            FieldPatch::Keep => continue,
            FieldPatch::Set(v) => Some(v.clone()),
            FieldPatch::Clear => None,
        };
        if next[field.index()] != value {
            next[field.index()] = value;
            changed.push(field);
        }
    }
    let reachable = ContactField::REACHABLE.iter().any(|f| next[f.index()].is_some());
    let change = match planned {
        Ok(None) => {
            assert!(changed.is_empty(), "a real change was dropped");
            return;
        }
        Err(err) => {
            assert!(!changed.is_empty(), "an update that changes nothing failed: {err}");
            let errors = err.validation_errors().expect("a validation error");
            let error = errors.iter().next().unwrap();
            if reachable {
                assert_eq!(base.version, u64::MAX, "refused: {err}");
                assert_eq!((error.field, error.code), ("version", code::RANGE));
            } else {
                assert_eq!(error.code, code::EMPTY_CONTACT);
            }
            assert_error_hides(&err, &set_values);
            return;
        }
        Ok(Some(change)) => change,
    };
    assert!(!changed.is_empty() && reachable && base.version < u64::MAX);
    let contact = &change.contact;
    for field in ContactField::ALL {
        assert_eq!(contact.field(field), next[field.index()].as_deref(), "{field}");
    }
    assert_eq!(contact.version, base.version + 1);
    assert_eq!((contact.id, &contact.case_id), (base.id, &base.case_id));
    assert_eq!((contact.created_at, &contact.created_by), (base.created_at, &base.created_by));
    assert!(contact.updated_at >= base.updated_at);
    assert_eq!(change.event.action, AuditAction::Updated);
    assert_eq!(change.event.contact_id, Some(base.id));
    assert_eq!(change.event.changed_fields, changed);
    assert_eq!(change.keys, SearchKeys::of(contact));
    match &contact.phone {
        None => assert_eq!(contact.phone_e164, None),
        Some(phone) if changed.contains(&ContactField::Phone) => {
            let key = rules.check_query(ContactQuery::Phone(phone.clone())).expect("a valid phone");
            assert_eq!(contact.phone_e164.as_deref(), Some(key.as_str()));
        }
        Some(_) => assert_eq!(contact.phone_e164, base.phone_e164),
    }
    let json = serde_json::to_string(contact).unwrap();
    match serde_json::from_str::<Contact>(&json) {
        Ok(back) => assert_eq!(&back, contact),
        // The values are the fuzzer's: show them.
        Err(err) => panic!("an updated contact does not deserialize: {err}: {json}"),
    }

    // The same patch again changes nothing.
    let replay = plan::update(contact, &checked, Some(contact.version), &actor());
    assert!(matches!(replay, Ok(None)), "the same patch changed the contact again");
});

/// A patch that sets, clears and keeps what `checked` does.
fn patch_of(checked: &CheckedPatch) -> ContactPatch {
    ContactField::ALL.into_iter().fold(ContactPatch::default(), |patch, field| match checked.field(field) {
        FieldPatch::Keep => patch,
        FieldPatch::Clear => patch.clear(field),
        FieldPatch::Set(value) => patch.set(field, value.clone()),
    })
}
