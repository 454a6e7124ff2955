//! What fuzzing the public API found, kept as ordinary tests (the fuzz targets are in
//! `fuzz/`; each finding here also seeds their corpus).

use chrono::{Duration, Utc};
use renraku_core::validation::fold_case;
use renraku_core::{
    Actor, CaseId, Contact, ContactField, ContactPatch, ContactQuery, Error, NewContact, Rules, SearchKey,
    plan,
};

fn contact(first_name: &str) -> Contact {
    let input = NewContact::default()
        .with(ContactField::FirstName, first_name)
        .with(ContactField::Phone, "+49 30 1234567");
    plan::create(&Rules::default(), &CaseId::new("7").unwrap(), input, &Actor::new("clerk").unwrap())
        .unwrap()
        .contact
}

/// Found in 25 s: `to_lowercase` folds a capital sigma at the end of a word to `ς` and
/// inside one to `σ`, so the start of `Οδυσσέας` typed in capitals did not find it.
#[test]
fn a_name_prefix_in_capitals_finds_greek_names() {
    let rules = Rules::default();
    let stored = contact("Οδυσσέας");
    for query in ["ΟΔΥΣ", "ΟΔΥΣΣ", "οδυς"] {
        let key = rules.check_query(ContactQuery::NamePrefix(query.into())).unwrap();
        assert!(key.matches(&stored), "{query}");
    }
    assert_eq!(fold_case("STRASSE"), fold_case("Straße"));
    assert_eq!(fold_case("ΣΊΣΥΦΟΣ"), fold_case("σίσυφος"));
    for text in ["İstanbul", "ΟΔΥΣΣΈΑΣ", "ǅemal", "ﬀ", "Maße"] {
        assert_eq!(fold_case(&fold_case(text)), fold_case(text), "folding is idempotent: {text}");
    }
    let key = rules.check_query(ContactQuery::NamePrefix("STRASS".into())).unwrap();
    assert_eq!(key, SearchKey::NamePrefix("strass".into()));
    assert!(key.matches(&contact("Straße")));
}

/// Found by the serde target: a deserialized `Contact` was not checked, so empty strings,
/// control characters, or `phone_e164` without `phone` passed.
#[test]
fn a_deserialized_contact_is_checked() {
    let valid = contact("Ada");
    let json = serde_json::to_value(&valid).unwrap();
    assert_eq!(
        serde_json::from_value::<Contact>(json.clone()).unwrap(),
        valid,
        "a valid contact round-trips"
    );

    let broken = |key: &str, value: serde_json::Value| {
        let mut json = json.clone();
        json[key] = value;
        serde_json::from_value::<Contact>(json).unwrap_err().to_string()
    };
    for (key, value, named) in [
        ("first_name", serde_json::json!(""), "first_name"),
        ("first_name", serde_json::json!(" Ada"), "first_name"),
        ("first_name", serde_json::json!("Ada\u{7}"), "first_name"),
        ("title", serde_json::json!("a\u{202E}b"), "title"),
        ("phone", serde_json::Value::Null, "phone_e164"),
        ("phone_e164", serde_json::json!("0301234567"), "phone_e164"),
        ("version", serde_json::json!(0), "version"),
        (
            "updated_at",
            serde_json::json!((valid.created_at - Duration::seconds(1)).to_rfc3339()),
            "updated_at",
        ),
    ] {
        let err = broken(key, value.clone());
        assert!(err.contains(named), "{key} = {value}: {err}");
        assert!(!err.contains("Ada"), "the error hides the value: {err}");
    }
    let mut nobody = json.clone();
    for field in ["first_name", "phone", "phone_e164"] {
        nobody[field] = serde_json::Value::Null;
    }
    let err = serde_json::from_value::<Contact>(nobody).unwrap_err().to_string();
    assert!(err.contains("contact"), "{err}");
    let mut unknown = json;
    unknown["extra"] = serde_json::json!(1);
    assert!(serde_json::from_value::<Contact>(unknown).is_err(), "unknown fields are refused");
}

/// Found by the patch target: `plan::update` computed `version + 1`, which panics in a
/// debug build and wraps to 0 in a release build for a contact at `u64::MAX`.
#[test]
fn the_last_version_cannot_overflow() {
    let mut last = contact("Ada");
    last.version = u64::MAX;
    last.updated_at = Utc::now();
    let patch = Rules::default()
        .check_patch(ContactPatch::default().set(ContactField::LastName, "Lovelace"))
        .unwrap();
    let err = plan::update(&last, &patch, None, &Actor::new("clerk").unwrap()).unwrap_err();
    let Error::Validation(errors) = err else { panic!("a validation error") };
    let error = errors.iter().next().unwrap();
    assert_eq!((error.field, error.code), ("version", "range"));
    let unchanged = Rules::default().check_patch(ContactPatch::default()).unwrap();
    assert!(plan::update(&last, &unchanged, None, &Actor::new("clerk").unwrap()).unwrap().is_none());
}

/// Found by the `new_contact` target in its first seconds (issue 19, second round): the
/// dotless `ı` folded to itself but its capital `I` to `i`, so `IŞIK` in capitals did not
/// find `Işık`, nor `ışık` find `IŞIK`.
#[test]
fn turkish_names_in_capitals_find_their_small_letters() {
    let rules = Rules::default();
    assert_eq!(fold_case("IŞIK"), fold_case("Işık"));
    assert_eq!(fold_case("ışık"), fold_case("IŞIK"));
    assert_eq!(fold_case(&fold_case("Işık")), fold_case("Işık"), "folding is idempotent");
    let stored = contact("Işık");
    for query in ["IŞIK", "IŞI", "ışık", "işi", "Işık"] {
        let key = rules.check_query(ContactQuery::NamePrefix(query.into())).unwrap();
        assert!(key.matches(&stored), "{query}");
    }
    let capitals = contact("IŞIK");
    let key = rules.check_query(ContactQuery::NamePrefix("ış".into())).unwrap();
    assert!(key.matches(&capitals));
    assert_eq!(
        renraku_core::SearchKeys::of(&stored).first_name,
        renraku_core::SearchKeys::of(&capitals).first_name
    );
}

/// Found by the `patch` target: libphonenumber accepts German numbers of up to 15 national
/// digits (a direct extension), whose E.164 form has 17 digits, but a deserialized contact
/// allowed only E.164's 15, so a contact that `plan` made did not read back.
#[test]
fn a_long_valid_number_reads_back() {
    let rules = Rules::default();
    let input = NewContact::default().with(ContactField::Phone, "+49 30 123456777 7777");
    let contact = plan::create(&rules, &CaseId::new("7").unwrap(), input, &Actor::new("clerk").unwrap())
        .unwrap()
        .contact;
    assert_eq!(contact.phone_e164.as_deref(), Some("+49301234567777777"));
    let json = serde_json::to_string(&contact).unwrap();
    assert_eq!(serde_json::from_str::<Contact>(&json).unwrap(), contact);
    let mut too_long = serde_json::to_value(&contact).unwrap();
    too_long["phone_e164"] = serde_json::json!(format!("+{}", "1".repeat(21)));
    assert!(serde_json::from_value::<Contact>(too_long).is_err(), "still at most 20 digits");
}

/// Found by the `new_contact` target in a 10-minute run: `İ` folds to `i` and U+0307, one
/// combining mark and one character more (and `ß` to `ss`), so the key of a value with `İ`
/// and the most marks a character may carry, or of a query of the most characters, cannot be
/// checked again as a query. Keys are compared, never entered, so that is allowed; what must
/// hold is that the value finds itself.
#[test]
fn a_key_may_be_longer_than_its_query_and_still_finds_its_value() {
    let rules = Rules::default();
    let name = "Aİ\u{301}\u{301}\u{301}\u{301}";
    let stored = contact(name);
    let key = rules.check_query(ContactQuery::NamePrefix(name.into())).expect("a valid query");
    assert!(key.matches(&stored), "the name finds itself");
    assert_eq!(key.as_str().chars().filter(|&c| ('\u{300}'..='\u{36F}').contains(&c)).count(), 5);
    let again = rules.check_query(ContactQuery::NamePrefix(key.as_str().to_owned()));
    let errors = again.expect_err("five marks on one character").validation_errors().unwrap().clone();
    assert_eq!(errors.iter().map(|e| e.code).collect::<Vec<_>>(), ["too_many_marks"]);

    // The same in an email address's Unicode local part (the input the fuzzer found).
    let address = "aİ\u{301}\u{301}\u{301}\u{301}@example.org";
    let rules = Rules::default().allow_unicode_local_part(true);
    let key = rules.check_query(ContactQuery::Email(address.into())).expect("a valid address");
    let input = NewContact::default().with(ContactField::Email, address);
    let stored = plan::create(&rules, &CaseId::new("7").unwrap(), input, &Actor::new("clerk").unwrap())
        .unwrap()
        .contact;
    assert!(key.matches(&stored), "the address finds itself");
    assert!(rules.check_query(ContactQuery::Email(key.as_str().to_owned())).is_err());

    // A name prefix of the most characters a query may have, with an `İ`: the key is longer.
    let rules = Rules::default();
    let name = format!("İ{}", "a".repeat(99));
    let stored = contact(&name);
    let key = rules.check_query(ContactQuery::NamePrefix(name.clone())).expect("100 characters");
    assert!(key.matches(&stored), "the name finds itself");
    assert_eq!(key.as_str().chars().count(), 101);
    let again = rules.check_query(ContactQuery::NamePrefix(key.as_str().to_owned()));
    let errors = again.expect_err("101 characters").validation_errors().unwrap().clone();
    assert_eq!(errors.iter().map(|e| e.code).collect::<Vec<_>>(), ["too_long"]);
}
