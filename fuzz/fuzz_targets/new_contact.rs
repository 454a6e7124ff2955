//! Validation and planning of new contacts, and search keys:
//!
//! - no input panics; `check_new`, `plan::create` and `plan::create_many` agree;
//! - an accepted input comes back normalized: NFC, within its length, and normalizing it
//!   again (or its NFD form) changes nothing; the planned contact passes `Contact`'s checked
//!   deserialization;
//! - no error and no `Debug` output shows a value;
//! - a stored name is found by its prefixes, its phone number and email by themselves, and
//!   search keys are equal for inputs that differ only in case.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use renraku_core::validation::{code, fold_case, normalize_field};
use renraku_core::{
    Contact, ContactField, ContactQuery, Error, NewContact, Rules, SearchKey, SearchKeys, plan,
};
use renraku_fuzz::{Value, actor, assert_debug_hides_contact, assert_error_hides, case, new_contact, values};
use unicode_normalization::{UnicodeNormalization, is_nfc};

#[derive(Debug, Arbitrary)]
struct Input {
    rules: u8,
    fields: [Option<Value>; ContactField::COUNT],
    query: String,
}

const KNOWN_CODES: [&str; 10] = [
    code::TOO_LONG,
    code::CONTROL_CHARACTER,
    code::INVISIBLE_CHARACTER,
    code::TOO_MANY_MARKS,
    code::TOO_MANY_LINES,
    code::INVALID_NAME,
    code::INVALID_PHONE,
    code::MISSING_COUNTRY_CODE,
    code::INVALID_EMAIL,
    code::EMPTY_CONTACT,
];

fuzz_target!(|input: Input| {
    let rules = renraku_fuzz::rules(input.rules);
    let raw = values(&input.fields);
    let raw_refs: Vec<&str> = raw.iter().flatten().map(String::as_str).collect();
    let new = new_contact(&raw);

    let checked = rules.check_new(new.clone());
    let planned = plan::create(&rules, &case(0), new.clone(), &actor());
    let many = plan::create_many(&rules, &case(0), vec![new.clone(), new.clone()], &actor());
    assert_eq!(checked.is_ok(), planned.is_ok());
    assert_eq!(checked.is_ok(), many.is_ok());
    assert_debug_hides_new(&new);

    let change = match planned {
        Err(err) => {
            let Error::Validation(errors) = &err else { panic!("not a validation error: {err}") };
            assert!(!errors.is_empty());
            for error in errors {
                assert!(KNOWN_CODES.contains(&error.code), "unknown code {}", error.code);
                let named = ContactField::ALL.iter().any(|f| f.name() == error.field);
                assert!(named || error.field == "contact", "unknown field {}", error.field);
                assert!(error.index.is_none());
            }
            assert_error_hides(&err, &raw_refs);
            let many = many.unwrap_err();
            assert_error_hides(&many, &raw_refs);
            let indexes: Vec<_> = many.validation_errors().unwrap().iter().map(|e| e.index).collect();
            assert_eq!(indexes.len(), 2 * errors.len());
            assert!(indexes.iter().all(|i| matches!(i, Some(0 | 1))));
            check_query(&rules, &input.query, None);
            return;
        }
        Ok(change) => change,
    };
    let draft = checked.unwrap();
    let contact = &change.contact;

    // Normalized, within the rules, and normalizing again changes nothing.
    for field in ContactField::ALL {
        let stored = contact.field(field);
        assert_eq!(stored, draft.field(field));
        let entered = raw[field.index()].as_deref();
        assert_eq!(stored.map(str::to_owned), entered.and_then(|v| normalize_field(field, v)));
        if let Some(stored) = stored {
            assert!(is_nfc(stored), "{field} is not NFC");
            assert!(stored.chars().count() <= field.max_chars());
            assert_eq!(normalize_field(field, stored).as_deref(), Some(stored), "{field} normalizes again");
        }
    }
    assert_eq!(contact.phone.is_some(), contact.phone_e164.is_some());
    assert_eq!(contact.version, 1);
    assert_eq!(change.keys, SearchKeys::of(contact));
    assert_eq!(change.event.changed_fields, contact.present_fields().collect::<Vec<_>>());
    let stored: Vec<Option<String>> = ContactField::ALL.map(|f| contact.field(f).map(str::to_owned)).to_vec();
    let again = rules.check_new(new_contact(&stored.clone().try_into().unwrap())).expect("accepted again");
    assert_eq!(again, draft, "normalizing the normalized input changes it");
    let nfd: Vec<Option<String>> = raw.iter().map(|v| v.as_ref().map(|v| v.nfd().collect())).collect();
    let decomposed = rules.check_new(new_contact(&nfd.try_into().unwrap())).expect("NFD input accepted");
    assert_eq!(decomposed, draft, "NFD input normalizes differently");
    let many = many.unwrap();
    assert_eq!(many.len(), 2);
    assert!(many.iter().all(|c| ContactField::ALL.iter().all(|f| c.contact.field(*f) == contact.field(*f))));

    // `Debug` shows no value; a planned contact passes the checked deserialization.
    assert_debug_hides_contact(contact);
    let json = serde_json::to_string(contact).unwrap();
    let back: Contact = serde_json::from_str(&json).expect("a planned contact deserializes");
    assert_eq!(&back, contact);

    // Found by its prefixes, its phone number, its email address, in any case.
    for field in [ContactField::FirstName, ContactField::LastName] {
        if let Some(name) = contact.field(field) {
            check_prefixes(&rules, contact, name);
            check_case_variants(&rules, contact, &new, field);
        }
    }
    if let (Some(entered), Some(e164)) = (raw[ContactField::Phone.index()].as_deref(), &contact.phone_e164) {
        let key = rules.check_query(ContactQuery::Phone(entered.to_owned())).expect("the phone as a query");
        assert_eq!(key.as_str(), e164);
        assert!(key.matches(contact));
    }
    if let (Some(entered), Some(_)) = (raw[ContactField::Email.index()].as_deref(), &contact.email) {
        let key = rules.check_query(ContactQuery::Email(entered.to_owned())).expect("the email as a query");
        assert!(key.matches(contact), "not found by its email");
        check_case_variants(&rules, contact, &new, ContactField::Email);
    }
    check_query(&rules, &input.query, Some(contact));
});

/// Every prefix of `name` that ends before a character (not inside one: before a combining
/// mark) finds the contact; only a prefix that ends in a joiner may be refused.
fn check_prefixes(rules: &Rules, contact: &Contact, name: &str) {
    let ends: Vec<usize> = name
        .char_indices()
        .skip(1)
        .filter(|(_, c)| !is_mark(*c))
        .map(|(i, _)| i)
        .chain([name.len()])
        .collect();
    // At most 24 prefixes, spread over the name.
    let step = ends.len().div_ceil(24).max(1);
    for &end in ends.iter().step_by(step).chain(ends.last()) {
        let prefix = &name[..end];
        match rules.check_query(ContactQuery::NamePrefix(prefix.to_owned())) {
            Ok(key) => assert!(key.matches(contact), "not found by a prefix of its name"),
            Err(_) => {
                let last = prefix.trim_end().chars().last();
                assert!(
                    matches!(last, Some('\u{200C}' | '\u{200D}') | None),
                    "a prefix of a valid name was refused as a query"
                );
            }
        }
    }
}

fn is_mark(c: char) -> bool {
    use unicode_normalization::char::is_combining_mark;
    is_combining_mark(c)
}

/// The field's value in capitals and in small letters: where it is still accepted, it has
/// the same search key, and finds the contact.
fn check_case_variants(rules: &Rules, contact: &Contact, new: &NewContact, field: ContactField) {
    let Some(stored) = contact.field(field) else { return };
    let key = |c: &Contact| match field {
        ContactField::Email => SearchKeys::of(c).email,
        ContactField::FirstName => SearchKeys::of(c).first_name,
        _ => SearchKeys::of(c).last_name,
    };
    let original = key(contact).expect("a key for a present field");
    assert_eq!(original, fold_case(stored));
    // Unicode's case mapping of a letter that becomes two (`ᾳ` to `ΑΙ`) moves a combining mark
    // after it from the first to the second; by Unicode's own canonical caseless match the two
    // are then different texts, so such values are left out.
    let chars: Vec<char> = stored.chars().collect();
    let moves_a_mark = chars.windows(2).any(|w| {
        let expands = w[0].to_uppercase().count() > 1 || w[0].to_lowercase().count() > 1;
        expands && is_mark(w[1])
    });
    if moves_a_mark {
        return;
    }
    for variant in [stored.to_uppercase(), stored.to_lowercase()] {
        let varied = new.clone().with(field, variant.clone());
        if let Ok(other) = plan::create(rules, &case(0), varied, &actor()) {
            assert_eq!(
                key(&other.contact).as_ref(),
                Some(&original),
                "{field}: a variant in another case has another key"
            );
        }
        let query = match field {
            ContactField::Email => ContactQuery::Email(variant),
            _ => ContactQuery::NamePrefix(variant),
        };
        if let Ok(key) = rules.check_query(query) {
            assert!(key.matches(contact), "{field}: not found by the value in another case");
        }
    }
}

/// Any text as a query: refused without showing it, or a key that is NFC and that checking
/// again does not change.
fn check_query(rules: &Rules, text: &str, contact: Option<&Contact>) {
    for query in renraku_fuzz::queries(text) {
        match rules.check_query(query.clone()) {
            Err(err) => {
                assert_error_hides(&err, &[text]);
                let errors = err.validation_errors().expect("a validation error");
                assert!(errors.iter().all(|e| e.field == "query"));
            }
            Ok(key) => {
                assert!(is_nfc(key.as_str()));
                let again = match &key {
                    SearchKey::Phone(k) => ContactQuery::Phone(k.clone()),
                    SearchKey::Email(k) => ContactQuery::Email(k.clone()),
                    SearchKey::NamePrefix(k) => ContactQuery::NamePrefix(k.clone()),
                };
                // Checking a key again gives the same key, or refuses it for what folding
                // adds: `İ` folds to `i` and U+0307, one mark and one character more, `ß` to
                // `ss` (`a_key_may_be_longer_than_its_query_and_still_finds_its_value`).
                match rules.check_query(again) {
                    Ok(same) => assert_eq!(same, key, "a key checked again changes"),
                    Err(err) => {
                        let errors = err.validation_errors().expect("a validation error");
                        let grown = |code: &str| matches!(code, "too_many_marks" | "too_long");
                        assert!(errors.iter().all(|e| grown(e.code)), "a key refused: {errors:?}");
                    }
                }
                let debug = format!("{key:?}");
                assert!(
                    ["Phone", "Email", "NamePrefix"].map(|k| format!("{k}([redacted])")).contains(&debug)
                );
                if let Some(contact) = contact {
                    let _ = key.matches(contact);
                }
            }
        }
    }
}

fn assert_debug_hides_new(new: &NewContact) {
    let twin = ContactField::ALL.into_iter().fold(NewContact::default(), |twin, f| match new.field(f) {
        Some(_) => twin.with(f, "x"),
        None => twin,
    });
    assert_eq!(format!("{new:?}"), format!("{twin:?}"), "NewContact's Debug shows a value");
}
