//! One test per row of the validation table in the `renraku_core::validation` module docs:
//! every accepted and rejected example listed there, checked against `Rules` directly, with
//! and without a default phone region. Also `PhoneRegion` parsing and the redacting `Debug`
//! of every type that holds personal values.

use renraku_core::validation::{code, max_chars, normalize};
use renraku_core::{
    Actor, CaseId, ContactField, ContactPatch, ContactQuery, Error, FieldError, FieldKind, FieldPatch,
    NewContact, PhoneRegion, Rules, plan,
};

fn no_region() -> Rules {
    Rules::default()
}

fn region(code: &str) -> Rules {
    Rules::default().with_default_region(code.parse().unwrap())
}

/// Both settings that matter for rows that do not depend on the region.
fn both() -> [Rules; 2] {
    [no_region(), region("DE")]
}

/// Someone to contact, in a field other than `field`, so that only `field` is judged.
fn with_someone(field: ContactField) -> NewContact {
    let other =
        if field == ContactField::LastName { ContactField::FirstName } else { ContactField::LastName };
    NewContact::default().with(other, "Lovelace")
}

/// The normalized value `rules` accept for `value` in `field` (by create and by update).
#[track_caller]
fn accepted(rules: &Rules, field: ContactField, value: &str) -> Option<String> {
    let draft = match rules.check_new(with_someone(field).with(field, value)) {
        Ok(draft) => draft,
        Err(err) => panic!("{field} {value:?} rejected with {rules:?}: {err}"),
    };
    let patch = match rules.check_patch(ContactPatch::default().set(field, value)) {
        Ok(patch) => patch,
        Err(err) => panic!("{field} {value:?} rejected in a patch with {rules:?}: {err}"),
    };
    let normalized = draft.field(field).map(str::to_owned);
    let expected_patch = normalized.clone().map_or(FieldPatch::Clear, FieldPatch::Set);
    assert_eq!(patch.field(field), &expected_patch, "{field} {value:?}");
    normalized
}

/// The codes of the errors for `field` when `rules` reject `value` (by create and by update,
/// with the same errors).
#[track_caller]
fn rejected(rules: &Rules, field: ContactField, value: &str) -> Vec<&'static str> {
    let new_err = match rules.check_new(with_someone(field).with(field, value)) {
        Ok(_) => panic!("{field} {value:?} accepted with {rules:?}"),
        Err(err) => err,
    };
    let patch_err = match rules.check_patch(ContactPatch::default().set(field, value)) {
        Ok(_) => panic!("{field} {value:?} accepted in a patch with {rules:?}"),
        Err(err) => err,
    };
    let errors = new_err.validation_errors().expect("a validation error");
    assert_eq!(Some(errors), patch_err.validation_errors(), "{field} {value:?}");
    assert!(errors.iter().all(|e| e.field == field.name()), "{errors:?}");
    errors.iter().map(|e| e.code).collect()
}

#[track_caller]
fn assert_rejected_with(rules: &Rules, field: ContactField, value: &str, code: &str) {
    let codes = rejected(rules, field, value);
    assert!(codes.contains(&code), "{field} {value:?} with {rules:?}: expected {code}, got {codes:?}");
}

fn repeat(c: char, n: usize) -> String {
    std::iter::repeat_n(c, n).collect()
}

/// Row "every text field": trimmed; blank means absent; every kind of space becomes one
/// ordinary space; NFC. Accepted `"  Ada "` → `"Ada"`, `"Mary\u{a0}\u{a0}Ann"` →
/// `"Mary Ann"`, `"   "` → absent.
#[test]
fn row_every_text_field_is_normalized() {
    for rules in both() {
        // "  Ada " → "Ada" in every field where a name is a valid value.
        for field in [
            ContactField::Title,
            ContactField::FirstName,
            ContactField::LastName,
            ContactField::Address,
            ContactField::Relationship,
        ] {
            assert_eq!(accepted(&rules, field, "  Ada ").as_deref(), Some("Ada"), "{field}");
            assert_eq!(accepted(&rules, field, "Zoe\u{308}").as_deref(), Some("Zoë"), "{field}: NFC");
            for spaced in ["Mary\u{a0}\u{a0}Ann", "Mary \u{3000}Ann", "Mary\u{2007}Ann", "Mary  Ann"] {
                assert_eq!(
                    accepted(&rules, field, spaced).as_deref(),
                    Some("Mary Ann"),
                    "{field} {spaced:?}"
                );
            }
        }
        assert_eq!(
            accepted(&rules, ContactField::Email, " \tada@example.org\u{A0}").as_deref(),
            Some("ada@example.org")
        );
        assert_eq!(
            accepted(&rules, ContactField::Phone, "  +49 30 1234567 ").as_deref(),
            Some("+49 30 1234567")
        );

        // "   " → absent, in every field (and a blank set in a patch clears the field).
        for field in ContactField::ALL {
            for blank in ["   ", "", "\t\n", "\u{A0}\u{2028}\u{3000}"] {
                assert_eq!(accepted(&rules, field, blank), None, "{field} {blank:?}");
            }
        }
    }
}

/// Row "every text field": no control characters (`control_character`); no line breaks but
/// in `address`. Rejected `"Ada\u{7}"`, `"a\nb"` as a name.
#[test]
fn row_every_text_field_has_no_control_characters() {
    for rules in both() {
        for field in ContactField::ALL {
            for value in ["Ada\u{7}", "a\u{0}b", "a\u{9F}b", "a\tb"] {
                assert_rejected_with(&rules, field, value, code::CONTROL_CHARACTER);
            }
            if field != ContactField::Address {
                for value in ["a\nb", "a\r\nb", "a\rb", "a\u{85}b"] {
                    assert_rejected_with(&rules, field, value, code::CONTROL_CHARACTER);
                }
            }
        }
    }
}

/// Row "every text field": no invisible or reordering characters (`invisible_character`);
/// joiners only where a script needs them. Accepted `علی‌رضا`, `ශ්‍රී`; rejected
/// `"a\u{202E}b"`, `"a\u{200B}b"`, `"\u{3164}"`, `"Ad\u{200D}a"`.
#[test]
fn row_every_text_field_has_no_invisible_characters() {
    for rules in both() {
        for field in
            [ContactField::FirstName, ContactField::LastName, ContactField::Title, ContactField::Address]
        {
            for name in
                ["\u{639}\u{644}\u{6CC}\u{200C}\u{631}\u{636}\u{627}", "\u{DC1}\u{DCA}\u{200D}\u{DBB}\u{DD3}"]
            {
                assert_eq!(accepted(&rules, field, name).as_deref(), Some(name), "{field} {name:?}");
            }
        }
        let bidi = [
            "\u{202A}", "\u{202B}", "\u{202C}", "\u{202D}", "\u{202E}", "\u{2066}", "\u{2067}", "\u{2068}",
            "\u{2069}", "\u{200E}", "\u{200F}", "\u{61C}",
        ];
        let invisible = [
            "\u{200B}",
            "\u{2060}",
            "\u{FEFF}",
            "\u{AD}",
            "\u{3164}",
            "\u{FFA0}",
            "\u{115F}",
            "\u{1160}",
            "\u{FE0F}",
            "\u{E0100}",
            "\u{34F}",
            "\u{E0041}",
            "\u{180E}",
        ];
        for field in ContactField::ALL {
            for c in bidi.iter().chain(&invisible) {
                assert_rejected_with(&rules, field, &format!("Ada{c}b"), code::INVISIBLE_CHARACTER);
            }
            for joined in ["Ad\u{200D}a", "Ad\u{200C}a", "\u{200D}Ada", "Ada\u{200C}"] {
                assert_rejected_with(&rules, field, joined, code::INVISIBLE_CHARACTER);
            }
        }
    }
}

/// Row "every text field": at most 4 combining marks on one character (`too_many_marks`).
/// Accepted `Nguyễn`; rejected a letter with 5 stacked accents.
#[test]
fn row_every_text_field_caps_combining_marks() {
    assert_eq!(renraku_core::validation::MAX_MARKS_PER_BASE, 4);
    for rules in both() {
        for field in ContactField::ALL {
            if field.kind() == FieldKind::Phone || field.kind() == FieldKind::Email {
                continue;
            }
            assert!(accepted(&rules, field, "Nguye\u{302}\u{303}n").is_some(), "{field}");
            assert!(
                accepted(&rules, field, &format!("a{}", "\u{301}\u{308}".repeat(2))).is_some(),
                "{field}"
            );
            // `x` has no precomposed forms: NFC leaves every mark on it.
            assert!(accepted(&rules, field, &format!("x{}", "\u{301}".repeat(4))).is_some(), "{field}");
            assert_rejected_with(&rules, field, &format!("x{}", "\u{301}".repeat(5)), code::TOO_MANY_MARKS);
            assert_rejected_with(&rules, field, &format!("a{}", "\u{301}".repeat(60)), code::TOO_MANY_MARKS);
        }
    }
}

/// Row `title`: at most 50 characters (`too_long`). Accepted `"Dr."`, `"Herr"`; rejected 51
/// characters.
#[test]
fn row_title() {
    assert_eq!(max_chars(ContactField::Title), 50);
    for rules in both() {
        for value in ["Dr.", "Herr"] {
            assert_eq!(accepted(&rules, ContactField::Title, value).as_deref(), Some(value));
        }
        assert!(accepted(&rules, ContactField::Title, &repeat('x', 50)).is_some());
        assert_eq!(rejected(&rules, ContactField::Title, &repeat('x', 51)), [code::TOO_LONG]);
    }
}

/// Row `first_name`, `last_name`: at most 100 characters; letters and marks of any script,
/// spaces, the punctuation of names; at least one letter (`invalid_name`). Accepted
/// `Zoë-Marie`, `O'Brien`, `Nguyễn`, `李小龙`, `J. R.`, `玛丽·居里`, `Gal·la`, `ジョン・スミス`,
/// `ג׳ורג׳`; rejected `R2D2`, `<b>`, `a;b`, `a@b`, `.`, `-`, `Ⅻ`.
#[test]
fn row_names() {
    for rules in both() {
        for field in [ContactField::FirstName, ContactField::LastName] {
            assert_eq!(max_chars(field), 100);
            for name in [
                "Zoë-Marie",
                "O'Brien",
                "Nguyễn",
                "李小龙",
                "Jean-Luc",
                "J. R.",
                "O’Brien",
                "玛丽·居里",
                "Gal·la",
                "ジョン・スミス",
                "ג׳ורג׳",
                "Jean\u{2010}Luc",
                "Jean\u{2011}Luc",
                "'t Hooft",
                "\u{F56}\u{F40}\u{F0B}\u{F64}\u{F72}\u{F66}\u{F0B}",
            ] {
                assert_eq!(accepted(&rules, field, name).as_deref(), Some(name), "{field} {name:?}");
            }
            for name in ["R2D2", "<b>", "a;b", "a@b", ".", "-", "...", "'", "\u{216B}", "Ada_Lovelace"] {
                assert_eq!(rejected(&rules, field, name), [code::INVALID_NAME], "{field} {name:?}");
            }
            assert!(accepted(&rules, field, &repeat('é', 100)).is_some());
            assert_eq!(rejected(&rules, field, &repeat('é', 101)), [code::TOO_LONG]);
        }
    }
}

/// Row `phone`: at most 32 characters; valid for libphonenumber, read with the default
/// region or, without one, only in international form (`invalid_phone`,
/// `missing_country_code`); kept as entered, plus its E.164 form; no letters outside a
/// `tel:` URI. Accepted `+49 30 1234567`, `030 1234567` (region DE), `(202) 555-0143`
/// (region US), `+7 812 123-45-67`, `+٤٩ ٣٠ ١٢٣٤٥٦٧`, `tel:+49-30-1234567`; rejected `12`,
/// `+49 0`, `030 1234567` without a default region, `+49 18500123456555`,
/// `+49 30 1234567 (office)`. (The reference corpus in `tests/reference.rs` checks the rule
/// on 29,000 numbers.)
#[test]
fn row_phone() {
    let phone = ContactField::Phone;
    let e164 = |rules: &Rules, value: &str| {
        let draft = rules.check_new(NewContact::default().with(phone, value)).unwrap();
        assert_eq!(draft.field(phone), normalize(value).as_deref(), "kept as entered (spaces folded)");
        draft.phone_e164().map(str::to_owned)
    };

    // `+49 30 1234567`: international, whatever the region.
    for rules in [no_region(), region("DE"), region("US")] {
        assert_eq!(e164(&rules, "+49 30 1234567").as_deref(), Some("+49301234567"));
    }
    // `030 1234567`: national, needs region DE.
    assert_eq!(e164(&region("DE"), "030 1234567").as_deref(), Some("+49301234567"));
    assert_eq!(rejected(&no_region(), phone, "030 1234567"), [code::MISSING_COUNTRY_CODE]);
    // `(202) 555-0143`: national, needs region US.
    assert_eq!(e164(&region("US"), "(202) 555-0143").as_deref(), Some("+12025550143"));
    assert_eq!(rejected(&no_region(), phone, "(202) 555-0143"), [code::MISSING_COUNTRY_CODE]);

    // `12`: not a number anywhere; without a region it first lacks a country code.
    assert_eq!(rejected(&no_region(), phone, "12"), [code::MISSING_COUNTRY_CODE]);
    assert_eq!(rejected(&region("DE"), phone, "12"), [code::INVALID_PHONE]);
    assert_eq!(rejected(&region("US"), phone, "12"), [code::INVALID_PHONE]);
    // `+49 0`: international, invalid.
    for rules in [no_region(), region("DE"), region("US")] {
        assert_eq!(rejected(&rules, phone, "+49 0"), [code::INVALID_PHONE]);
    }

    // The rows libphonenumber decides and the phonenumber crate got wrong.
    for rules in [no_region(), region("DE"), region("RU")] {
        assert_eq!(e164(&rules, "+7 812 123-45-67").as_deref(), Some("+78121234567"), "St Petersburg");
        assert_eq!(e164(&rules, "+٤٩ ٣٠ ١٢٣٤٥٦٧").as_deref(), Some("+49301234567"), "Arabic-Indic digits");
        assert_eq!(e164(&rules, "tel:+49-30-1234567").as_deref(), Some("+49301234567"), "RFC 3966");
        assert_eq!(e164(&rules, "+1\u{A0}201-555-0123").as_deref(), Some("+12015550123"), "no-break space");
        assert_eq!(rejected(&rules, phone, "+49 18500123456555"), [code::INVALID_PHONE], "prefix-only match");
        for lettered in ["+49 30 1234567 (office)", "+49 700 a234 5678", "1-800-FLOWERS"] {
            assert_eq!(rejected(&rules, phone, lettered), [code::INVALID_PHONE], "{lettered}: no letters");
        }
    }
    assert_eq!(e164(&region("JP"), "０３－１２３４－５６７８").as_deref(), Some("+81312345678"), "fullwidth");

    // At most 32 characters (checked before parsing, after spaces are folded).
    assert_eq!(max_chars(phone), 32);
    let long = format!("+49 30 1234567{}", repeat('0', 18)); // 32 characters
    assert_eq!(long.chars().count(), 32);
    for rules in both() {
        assert_eq!(rejected(&rules, phone, &format!("{long}9")), [code::TOO_LONG]);
    }
}

/// Not in the table, but what its phone row promises: an international number means the same
/// whatever the default region (the phonenumber crate applied the default region's national
/// prefix to foreign numbers: `+49 151 …` became `+49 51 …` with region US).
#[test]
fn row_phone_international_numbers_ignore_the_default_region() {
    let cases = [
        ("+49 151 12345678", "+4915112345678"),
        ("+39 06 69812345", "+390669812345"),
        ("+44 121 496 0000", "+441214960000"),
        ("+1 202 555 0143", "+12025550143"),
        ("＋49 151 12345678", "+4915112345678"),
        ("(+49) 151 12345678", "+4915112345678"),
    ];
    for rules in [region("DE"), region("US"), region("GB"), region("IT"), region("BR"), region("JP")] {
        for (value, expected) in cases {
            let draft = rules.check_new(NewContact::default().with(ContactField::Phone, value)).unwrap();
            assert_eq!(draft.phone_e164(), Some(expected), "{value} with {rules:?}");
            let key = rules.check_query(ContactQuery::Phone(value.into())).unwrap();
            assert_eq!(key.as_str(), expected, "query {value} with {rules:?}");
        }
    }
    // Through an international call prefix: right, or rejected, never another number.
    assert_eq!(
        region("DE")
            .check_new(NewContact::default().with(ContactField::Phone, "00 1 202 555 0143"))
            .unwrap()
            .phone_e164(),
        Some("+12025550143")
    );
    assert_eq!(
        region("DE")
            .check_new(NewContact::default().with(ContactField::Phone, "0049 151 12345678"))
            .unwrap()
            .phone_e164(),
        Some("+4915112345678")
    );
    match region("US").check_new(NewContact::default().with(ContactField::Phone, "011 49 151 12345678")) {
        Ok(draft) => assert_eq!(draft.phone_e164(), Some("+4915112345678")),
        Err(err) => {
            assert_eq!(err.validation_errors().unwrap().iter().next().unwrap().code, code::INVALID_PHONE)
        }
    }
}

/// Row `email`: at most 254 characters; WHATWG after IDNA; at least two labels, no IP
/// literals, no leading, trailing or doubled dot before the `@`, at most 64 characters
/// before it and 253 octets after it (`invalid_email`). Accepted `ada@example.org`,
/// `zoe@bücher.de`, `a+tag@sub.example.co.uk`; rejected `ada`, `ada@localhost`,
/// `ada@[127.0.0.1]`, `a..b@x.org`, `.ada@x.org`, `ada@xn--a.org`, `zoë@example.org` (by
/// default).
#[test]
fn row_email() {
    let email = ContactField::Email;
    for rules in both() {
        for value in ["ada@example.org", "zoe@bücher.de", "a+tag@sub.example.co.uk", "ADA@EXAMPLE.ORG"] {
            assert_eq!(accepted(&rules, email, value).as_deref(), Some(value));
        }
        for value in [
            "ada",
            "ada@",
            "@example.org",
            "zoë@example.org",
            "ada@localhost",
            "ada@[127.0.0.1]",
            "ada@evil.com[127.0.0.1]",
            "ada@<script>[1.1.1.1]",
            "a..b@x.org",
            ".ada@x.org",
            "ada.@x.org",
            "ada@xn--a.org",
            "ada@@example.org",
            "ada@example.org.",
            "ada@-example.org",
            "ada@exa_mple.org",
        ] {
            assert_eq!(rejected(&rules, email, value), [code::INVALID_EMAIL], "{value:?}");
        }
        assert_rejected_with(&rules, email, "ada@exa\u{AD}mple.org", code::INVISIBLE_CHARACTER);
        assert!(accepted(&rules, email, &format!("{}@example.org", repeat('a', 64))).is_some());
        assert_eq!(
            rejected(&rules, email, &format!("{}@example.org", repeat('a', 65))),
            [code::INVALID_EMAIL]
        );
        assert_eq!(max_chars(email), 254);
        let domain =
            format!("{}.{}.{}.{}.org", repeat('a', 63), repeat('b', 63), repeat('c', 63), repeat('d', 53));
        let longest = format!("adam@{domain}");
        assert_eq!((longest.chars().count(), domain.len()), (254, 249));
        assert!(accepted(&rules, email, &longest).is_some());
        assert!(rejected(&rules, email, &format!("adam@ee{domain}")).contains(&code::TOO_LONG));
    }
    let unicode = no_region().allow_unicode_local_part(true);
    assert_eq!(accepted(&unicode, email, "zoë@example.org").as_deref(), Some("zoë@example.org"));
    assert_eq!(rejected(&unicode, email, "zoë..x@example.org"), [code::INVALID_EMAIL]);
}

/// Row `address`: at most 500 characters and 10 lines; line breaks become `\n`, each line is
/// trimmed, empty lines are dropped (`too_many_lines`). Accepted
/// `"Hauptstraße 1\r\n10115 Berlin"` → two lines; rejected 11 lines.
#[test]
fn row_address() {
    let address = ContactField::Address;
    assert_eq!(max_chars(address), 500);
    for rules in both() {
        let value = "Hauptstraße 1, 10115 Berlin";
        assert_eq!(accepted(&rules, address, value).as_deref(), Some(value));
        assert_eq!(
            accepted(&rules, address, " Hauptstraße 1 \r\n\r\n10115  Berlin\r").as_deref(),
            Some("Hauptstraße 1\n10115 Berlin")
        );
        assert_eq!(accepted(&rules, address, "a\rb\nc\u{2028}d").as_deref(), Some("a\nb\nc\nd"));
        let ten = ["line"; 10].join("\n");
        assert_eq!(accepted(&rules, address, &ten).as_deref(), Some(ten.as_str()));
        assert_eq!(rejected(&rules, address, &format!("{ten}\nline")), [code::TOO_MANY_LINES]);
        assert!(accepted(&rules, address, &repeat('ß', 500)).is_some());
        assert_eq!(rejected(&rules, address, &repeat('ß', 501)), [code::TOO_LONG]);
    }
}

/// Row `relationship`: at most 100 characters. Accepted `household`, `colleague`; rejected
/// 101 characters.
#[test]
fn row_relationship() {
    assert_eq!(max_chars(ContactField::Relationship), 100);
    for rules in both() {
        for value in ["household", "colleague"] {
            assert_eq!(accepted(&rules, ContactField::Relationship, value).as_deref(), Some(value));
        }
        assert!(accepted(&rules, ContactField::Relationship, &repeat('x', 100)).is_some());
        assert_eq!(rejected(&rules, ContactField::Relationship, &repeat('x', 101)), [code::TOO_LONG]);
    }
}

/// Row "the contact": at least one of `first_name`, `last_name`, `phone`, `email`
/// (`empty_contact`, field `contact`). Accepted a phone number alone; rejected only a title
/// and an address.
#[test]
fn row_the_contact() {
    let case = CaseId::new("42").unwrap();
    let actor = Actor::new("clerk-1").unwrap();
    for rules in both() {
        let phone_alone = NewContact { phone: Some("+49 30 1234567".into()), ..NewContact::default() };
        assert!(rules.check_new(phone_alone.clone()).is_ok());
        for field in ContactField::REACHABLE {
            let value = match field {
                ContactField::Phone => "+49 30 1234567",
                ContactField::Email => "ada@example.org",
                _ => "Ada",
            };
            assert!(rules.check_new(NewContact::default().with(field, value)).is_ok(), "{field} alone");
        }

        let title_and_address = NewContact {
            title: Some("Dr.".into()),
            address: Some("Hauptstraße 1, 10115 Berlin".into()),
            ..NewContact::default()
        };
        for input in [
            title_and_address,
            NewContact::default(),
            NewContact::default().with(ContactField::FirstName, "  "),
        ] {
            let err = rules.check_new(input).unwrap_err();
            let errors: Vec<&FieldError> = err.validation_errors().unwrap().iter().collect();
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!((errors[0].field, errors[0].code), ("contact", code::EMPTY_CONTACT));
        }

        // An update may not leave nobody to contact either; the check is on the result.
        let contact = plan::create(&rules, &case, phone_alone, &actor).unwrap().contact;
        let clear_phone = rules.check_patch(ContactPatch::default().clear(ContactField::Phone)).unwrap();
        let err = plan::update(&contact, &clear_phone, None, &actor).unwrap_err();
        let first = err.validation_errors().unwrap().iter().next().unwrap().clone();
        assert_eq!((first.field, first.code), ("contact", code::EMPTY_CONTACT));
        let swap = rules
            .check_patch(
                ContactPatch::default()
                    .clear(ContactField::Phone)
                    .set(ContactField::Email, "ada@example.org"),
            )
            .unwrap();
        assert!(plan::update(&contact, &swap, None, &actor).unwrap().is_some());
    }
}

/// The note under the table: lengths count characters after normalization, not bytes.
#[test]
fn lengths_count_characters_after_normalization() {
    for rules in both() {
        // 100 characters of two bytes each; 200 characters that NFC composes into 100.
        assert!(accepted(&rules, ContactField::FirstName, &repeat('ü', 100)).is_some());
        let decomposed = "u\u{308}".repeat(100);
        assert_eq!(decomposed.chars().count(), 200);
        assert_eq!(accepted(&rules, ContactField::FirstName, &decomposed).unwrap().chars().count(), 100);
        // Trimmed white space does not count either.
        assert!(accepted(&rules, ContactField::Title, &format!("   {}   ", repeat('x', 50))).is_some());
    }
}

#[test]
fn phone_regions_parse_in_any_case() {
    for (input, expected) in [("DE", "DE"), ("de", "DE"), ("De", "DE"), (" us ", "US"), ("gb", "GB")] {
        let region: PhoneRegion = input.parse().unwrap();
        assert_eq!(region.to_string(), expected);
        assert_eq!(format!("{region:?}"), format!("PhoneRegion({expected})"));
    }
    assert_eq!("de".parse::<PhoneRegion>().unwrap(), "DE".parse::<PhoneRegion>().unwrap());
    for input in ["XX", "xx", "", " ", "DEU", "D", "49", "+49"] {
        let err = input.parse::<PhoneRegion>().unwrap_err();
        let errors: Vec<&FieldError> = err.validation_errors().unwrap().iter().collect();
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].field, errors[0].code), ("region", code::UNKNOWN_REGION), "{input:?}");
    }
    // A lowercase region works as a default region.
    let draft =
        region("de").check_new(NewContact::default().with(ContactField::Phone, "030 1234567")).unwrap();
    assert_eq!(draft.phone_e164(), Some("+49301234567"));
}

/// Values that are valid in every field they are put in, each distinct and easy to find.
fn secret(field: ContactField) -> &'static str {
    match field {
        ContactField::Title => "Oberstudienrätin",
        ContactField::FirstName => "Zoë-Marie",
        ContactField::LastName => "Nguyễn",
        ContactField::Phone => "+49 30 9876543",
        ContactField::Email => "zoe.nguyen@example.org",
        ContactField::Address => "Hauptstraße 1, 10115 Berlin",
        ContactField::Relationship => "neighbour",
        // A field added later: its example from the field table (checked whole below).
        #[allow(unreachable_patterns)]
        _ => field.example(),
    }
}

/// Fragments of the secrets (and their normalized forms) that no `Debug` output may show.
const LEAKS: &[&str] = &[
    "Oberstudien",
    "Zoë",
    "Zoe",
    "Nguy",
    "nguy",
    "9876543",
    "+4930",
    "zoe",
    "Hauptstra",
    "10115",
    "neighbour",
];

#[track_caller]
fn assert_redacted(what: &str, debug: &str) {
    for leak in LEAKS.iter().copied().chain(ContactField::ALL.map(secret)) {
        assert!(!debug.contains(leak), "{what} shows {leak:?}: {debug}");
    }
}

#[test]
fn debug_redacts_every_personal_value() {
    let rules = region("DE");
    let case = CaseId::new("42").unwrap();
    let actor = Actor::new("clerk-1").unwrap();
    let input = ContactField::ALL.into_iter().fold(NewContact::default(), |i, f| i.with(f, secret(f)));
    let patch = ContactField::ALL.into_iter().fold(ContactPatch::default(), |p, f| p.set(f, secret(f)));

    let change = plan::create(&rules, &case, input.clone(), &actor).unwrap();
    let contact = change.contact.clone();
    // The contact really holds the values, so the checks below are not vacuous.
    for field in ContactField::ALL {
        assert_eq!(contact.field(field), Some(secret(field)));
    }
    assert_eq!(contact.phone_e164.as_deref(), Some("+49309876543"));

    let draft = rules.check_new(input.clone()).unwrap();
    let checked = rules.check_patch(patch.clone()).unwrap();
    let queries = [
        ContactQuery::Phone(secret(ContactField::Phone).into()),
        ContactQuery::Email(secret(ContactField::Email).into()),
        ContactQuery::NamePrefix(secret(ContactField::LastName).into()),
    ];
    let keys: Vec<_> = queries.iter().map(|q| rules.check_query(q.clone()).unwrap()).collect();

    let outputs = [
        ("Contact", format!("{contact:?}"), format!("{contact:#?}")),
        ("ContactChange", format!("{change:?}"), format!("{change:#?}")),
        ("NewContact", format!("{input:?}"), format!("{input:#?}")),
        ("ContactPatch", format!("{patch:?}"), format!("{patch:#?}")),
        ("ContactDraft", format!("{draft:?}"), format!("{draft:#?}")),
        ("CheckedPatch", format!("{checked:?}"), format!("{checked:#?}")),
        ("ContactQuery", format!("{queries:?}"), format!("{queries:#?}")),
        ("SearchKey", format!("{keys:?}"), format!("{keys:#?}")),
    ];
    for (what, debug, pretty) in &outputs {
        assert_redacted(what, debug);
        assert_redacted(what, pretty);
    }

    // Redacted, not dropped: the output still says which fields are there.
    let contact_debug = &outputs[0].1;
    assert!(contact_debug.contains("first_name: \"[redacted]\""), "{contact_debug}");
    assert!(contact_debug.contains(&contact.id.to_string()) && contact_debug.contains("version: 1"));
    assert!(outputs[2].1.contains("email: \"[redacted]\""), "{}", outputs[2].1);
    assert!(outputs[3].1.contains("Set([redacted])"), "{}", outputs[3].1);
    assert!(outputs[4].1.contains("Email"), "{}", outputs[4].1);
    assert!(outputs[6].1.contains("Phone([redacted])"), "{}", outputs[6].1);
    assert!(outputs[7].1.contains("NamePrefix([redacted])"), "{}", outputs[7].1);

    // Absent values show as absent.
    let sparse =
        plan::create(&rules, &case, NewContact::default().with(ContactField::Phone, "030 9876543"), &actor)
            .unwrap()
            .contact;
    let sparse_debug = format!("{sparse:?}");
    assert!(
        sparse_debug.contains("email: None") && sparse_debug.contains("phone: \"[redacted]\""),
        "{sparse_debug}"
    );
    assert_redacted("Contact", &sparse_debug);
}

/// Validation errors name fields and rules, never values (the table's last sentence).
#[test]
fn errors_name_fields_not_values() {
    let input = NewContact {
        first_name: Some("R2D2".into()),
        phone: Some("12".into()),
        email: Some("zoe.nguyen@".into()),
        title: Some("Oberstudienrätin\u{7}".into()),
        ..NewContact::default()
    };
    let err = region("DE").check_new(input).unwrap_err();
    let Error::Validation(errors) = &err else { panic!("{err:?}") };
    let fields: Vec<(&str, &str)> = errors.iter().map(|e| (e.field, e.code)).collect();
    assert_eq!(
        fields,
        [
            ("title", code::CONTROL_CHARACTER),
            ("first_name", code::INVALID_NAME),
            ("phone", code::INVALID_PHONE),
            ("email", code::INVALID_EMAIL),
        ]
    );
    for rendering in [err.to_string(), format!("{err:?}"), serde_json::to_string(errors).unwrap()] {
        for value in ["R2D2", "zoe.nguyen", "Oberstudien"] {
            assert!(!rendering.contains(value), "{rendering}");
        }
    }
}
