//! Creating contacts, one or many, and validating them on the way in.

use super::*;

pub async fn create_round_trips_every_field(repo: Repo) {
    let case = fresh_case();
    let created = repo.create(&case, complete_contact(), &clerk()).await.expect("create");
    assert_eq!(created.case_id, case);
    assert_eq!(created.title.as_deref(), Some("Frau Dr."));
    assert_eq!(created.first_name.as_deref(), Some("Zoë-Marie"));
    assert_eq!(created.last_name.as_deref(), Some("O'Brien"));
    assert_eq!(created.phone.as_deref(), Some("+49 30 1234567"));
    assert_eq!(created.phone_e164.as_deref(), Some("+49301234567"));
    assert_eq!(created.email.as_deref(), Some("Zoe.OBrien@example.org"));
    assert_eq!(created.address.as_deref(), Some("Hauptstraße 1, 10115 Berlin"));
    assert_eq!(created.relationship.as_deref(), Some("household"));
    assert_eq!(created.version, 1);
    assert_eq!(created.created_at, created.updated_at);
    assert_eq!(created.created_by, clerk());
    assert_eq!(created.updated_by, clerk());
    let loaded = repo.get(&case, created.id, &clerk()).await.expect("get");
    assert_eq!(loaded, created, "a contact reads back exactly as it was stored");
}

pub async fn create_normalizes_text(repo: Repo) {
    let case = fresh_case();
    let input = NewContact {
        title: Some("   ".into()),
        first_name: Some("  Zoe\u{308}  ".into()),
        last_name: Some("\tNguye\u{302}\u{303}n\u{a0}".into()),
        address: Some(String::new()),
        ..NewContact::default()
    };
    let created = repo.create(&case, input, &clerk()).await.expect("create");
    assert_eq!(created.title, None, "blank means absent");
    assert_eq!(created.address, None, "empty means absent");
    assert_eq!(created.first_name.as_deref(), Some("Zoë"), "trimmed and NFC");
    assert_eq!(created.last_name.as_deref(), Some("Nguyễn"), "trimmed and NFC");
    assert_eq!(repo.get(&case, created.id, &clerk()).await.expect("get"), created);
}

pub async fn create_rejects_an_empty_contact(repo: Repo) {
    let case = fresh_case();
    let input = NewContact {
        title: Some("Herr".into()),
        address: Some("Hauptstraße 1".into()),
        relationship: Some("household".into()),
        ..NewContact::default()
    };
    assert_eq!(codes(repo.create(&case, input, &clerk()).await), [(None, "contact", "empty_contact")]);
    let blank = NewContact { first_name: Some("  ".into()), ..NewContact::default() };
    assert_eq!(codes(repo.create(&case, blank, &clerk()).await), [(None, "contact", "empty_contact")]);
    assert_case_untouched(&repo, &case).await;
}

pub async fn create_rejects_control_characters(repo: Repo) {
    let case = fresh_case();
    for field in ContactField::ALL {
        let line_break = (field.kind() != FieldKind::MultiLine).then_some("a\nb");
        for bad in ["Ada\u{7}", "a\u{0}b", "a\u{9f}b"].into_iter().chain(line_break) {
            let input = named("Ada").with(field, bad);
            let result = repo.create(&case, input, &clerk()).await;
            let found = codes(result);
            assert!(found.contains(&(None, field.name(), "control_character")), "{field}: {found:?}");
        }
    }
    assert_case_untouched(&repo, &case).await;
}

pub async fn create_rejects_invisible_characters(repo: Repo) {
    let case = fresh_case();
    for field in ContactField::ALL {
        for bad in ["Ada\u{202E}b", "Ada\u{200B}b", "Ada\u{3164}", "Ad\u{200D}a"] {
            let found = codes(repo.create(&case, named("Ada").with(field, bad), &clerk()).await);
            assert!(found.contains(&(None, field.name(), "invisible_character")), "{field}: {found:?}");
        }
    }
    assert_case_untouched(&repo, &case).await;
}

/// Addresses have lines: any line break is stored as `\n`, lines are trimmed and empty
/// ones dropped, and they read back as stored; other fields stay on one line.
pub async fn address_keeps_its_lines(repo: Repo) {
    let case = fresh_case();
    let input = named("Ada").with(ContactField::Address, " Hauptstraße 1\r\n\r\n 10115 Berlin \rGermany ");
    let created = repo.create(&case, input, &clerk()).await.expect("a multi-line address");
    assert_eq!(created.address.as_deref(), Some("Hauptstraße 1\n10115 Berlin\nGermany"));
    assert_eq!(repo.get(&case, created.id, &clerk()).await.expect("get"), created);
    let patch = ContactPatch::default().set(ContactField::Address, "c/o Byron\nPiccadilly 1\nLondon");
    let updated = repo.update(&case, created.id, patch, Some(1), &clerk()).await.expect("update");
    assert_eq!(updated.address.as_deref(), Some("c/o Byron\nPiccadilly 1\nLondon"));
    let eleven = ["line"; 11].join("\n");
    let found = codes(repo.create(&case, named("Ada").with(ContactField::Address, eleven), &clerk()).await);
    assert_eq!(found, [(None, "address", "too_many_lines")]);
    let found =
        codes(repo.create(&case, named("Ada").with(ContactField::Title, "Dr.\nmed."), &clerk()).await);
    assert_eq!(found, [(None, "title", "control_character")]);
}

pub async fn create_counts_lengths_in_characters(repo: Repo) {
    let case = fresh_case();
    let letters = |n: usize| "é".repeat(n);
    let email = |n: usize| {
        format!("{}@{}.{}.{}", "a".repeat(64), "b".repeat(63), "c".repeat(63), "d".repeat(n - 193))
    };
    type Make<'a> = &'a dyn Fn(usize) -> String;
    let cases: [(ContactField, usize, Make<'_>); 6] = [
        (ContactField::Title, 50, &letters),
        (ContactField::FirstName, 100, &letters),
        (ContactField::LastName, 100, &letters),
        (ContactField::Email, 254, &email),
        (ContactField::Address, 500, &letters),
        (ContactField::Relationship, 100, &letters),
    ];
    for (field, max, make) in cases {
        let longest = make(max);
        assert_eq!(longest.chars().count(), max);
        let created = repo.create(&case, named("Ada").with(field, longest.clone()), &clerk()).await;
        let created = created.unwrap_or_else(|e| panic!("{field} of {max} characters must pass: {e}"));
        assert_eq!(created.field(field), Some(longest.as_str()));
        let too_long = repo.create(&case, named("Ada").with(field, make(max + 1)), &clerk()).await;
        assert_eq!(codes(too_long), [(None, field.name(), "too_long")], "{field} of {} characters", max + 1);
    }
    let phone = format!("+49 30 1234567{}", "0".repeat(19));
    assert_eq!(phone.chars().count(), 33);
    let found = codes(repo.create(&case, named("Ada").with(ContactField::Phone, phone), &clerk()).await);
    assert_eq!(found, [(None, "phone", "too_long")]);
    assert_eq!(
        repo.list_all(&case, &clerk()).await.expect("list").len(),
        6,
        "only the longest valid values are stored"
    );
}

pub async fn names_accept_letters_marks_and_punctuation(repo: Repo) {
    let case = fresh_case();
    for name in
        ["Zoë-Marie", "O'Brien", "O\u{2019}Brien", "Nguyễn", "李小龙", "Jean-Luc", "J. R. R.", "Mary Ann"]
    {
        for field in [ContactField::FirstName, ContactField::LastName] {
            let input = NewContact::default().with(field, name);
            let created = repo.create(&case, input, &clerk()).await;
            let created = created.unwrap_or_else(|e| panic!("{field} {name:?} must pass: {e}"));
            assert_eq!(created.field(field), Some(name));
        }
    }
    let decomposed = NewContact::default().with(ContactField::LastName, "Nguye\u{302}\u{303}n");
    let created = repo.create(&case, decomposed, &clerk()).await.expect("combining marks pass");
    assert_eq!(created.last_name.as_deref(), Some("Nguyễn"), "names are stored NFC");
}

pub async fn names_reject_digits_and_symbols(repo: Repo) {
    let case = fresh_case();
    for name in ["R2D2", "<b>Ada</b>", "Ada;", "ada@example.org", "Ada_Lovelace", "Ada!"] {
        for field in [ContactField::FirstName, ContactField::LastName] {
            let input = NewContact::default().with(field, name).with(ContactField::Phone, "+49 30 1234567");
            assert_eq!(
                codes(repo.create(&case, input, &clerk()).await),
                [(None, field.name(), "invalid_name")]
            );
        }
    }
    assert_case_untouched(&repo, &case).await;
}

pub async fn phone_keeps_the_entry_and_its_e164_form(repo: Repo) {
    let case = fresh_case();
    for (entered, e164) in [
        ("+49 30 1234567", "+49301234567"),
        ("030 1234567", "+49301234567"),
        ("(030) 123-4567", "+49301234567"),
        ("+1 (202) 555-0143", "+12025550143"),
        ("+44 20 7946 0958", "+442079460958"),
    ] {
        let input = NewContact::default().with(ContactField::Phone, entered);
        let created = repo.create(&case, input, &clerk()).await.expect("valid phone");
        assert_eq!(created.phone.as_deref(), Some(entered), "the entry is kept");
        assert_eq!(created.phone_e164.as_deref(), Some(e164), "{entered}");
        assert_eq!(
            repo.get(&case, created.id, &clerk()).await.expect("get").phone_e164.as_deref(),
            Some(e164)
        );
    }
}

pub async fn phone_rejects_invalid_numbers(repo: Repo) {
    let case = fresh_case();
    for bad in ["12", "+49 0", "not a number", "+1 555", "+999 123456789", "030 12"] {
        let input = named("Ada").with(ContactField::Phone, bad);
        assert_eq!(
            codes(repo.create(&case, input, &clerk()).await),
            [(None, "phone", "invalid_phone")],
            "{bad}"
        );
    }
    assert_case_untouched(&repo, &case).await;
}

pub async fn email_is_validated_and_kept_as_entered(repo: Repo) {
    let case = fresh_case();
    for bad in
        ["ada", "ada@", "@example.org", "ada@@example.org", "ada lovelace@example.org", "zoë@example.org"]
    {
        let input = NewContact::default().with(ContactField::Email, bad);
        assert_eq!(
            codes(repo.create(&case, input, &clerk()).await),
            [(None, "email", "invalid_email")],
            "{bad}"
        );
    }
    for good in ["Ada.Lovelace@Example.ORG", "zoe@bücher.de", "a+tag@sub.example.co.uk"] {
        let input = NewContact::default().with(ContactField::Email, good);
        let created = repo.create(&case, input, &clerk()).await.expect("valid email");
        assert_eq!(created.email.as_deref(), Some(good));
    }
}

pub async fn validation_errors_never_contain_values(repo: Repo) {
    let case = fresh_case();
    // A value that breaks its field's rules, with a secret in it, for every field.
    let invalid = |field: ContactField| match field.kind() {
        FieldKind::Name => "Secret1<2>".to_owned(),
        FieldKind::Phone => "Secret 3".to_owned(),
        FieldKind::Email => "Secret4@".to_owned(),
        _ => format!("Secret\u{7}{}", "x".repeat(field.max_chars())),
    };
    let input =
        ContactField::ALL.into_iter().fold(NewContact::default(), |input, f| input.with(f, invalid(f)));
    let err = repo.create(&case, input, &clerk()).await.expect_err("invalid");
    let errors = err.validation_errors().expect("a validation error");
    let mut fields: Vec<_> = errors.iter().map(|e| e.field).collect();
    fields.dedup();
    assert_eq!(fields, ContactField::ALL.map(ContactField::name), "every field, in order");
    assert!(
        errors.iter().all(|e| !e.message.is_empty() && !e.code.is_empty()),
        "every error has a code and message"
    );
    for text in [err.to_string(), format!("{err:?}"), format!("{err:#?}")] {
        assert!(!text.contains("Secret"), "an error shows a value: {text}");
    }
    assert_case_untouched(&repo, &case).await;
}

pub async fn create_many_stores_all_in_order(repo: Repo) {
    let case = fresh_case();
    let inputs: Vec<_> =
        (0..25).map(|i| named("Ada").with(ContactField::Relationship, format!("row {i}"))).collect();
    let created = repo.create_many(&case, inputs, &clerk()).await.expect("create_many");
    assert_eq!(created.len(), 25);
    for (i, contact) in created.iter().enumerate() {
        assert_eq!(contact.relationship, Some(format!("row {i}")), "input order is kept");
        assert_eq!(contact.version, 1);
    }
    assert_eq!(
        repo.list_all(&case, &clerk()).await.expect("list"),
        created,
        "listing order is creation order"
    );
    let events = audit_of(&repo, &case).await;
    assert_eq!(events.len(), 25, "one created event per contact");
    assert!(events.iter().all(|e| e.action == AuditAction::Created));
}

pub async fn create_many_is_atomic_and_names_every_invalid_row(repo: Repo) {
    let case = fresh_case();
    let inputs = vec![
        named("Ada"),
        named("R2D2"),
        named("Grace"),
        NewContact { title: Some("Herr".into()), ..NewContact::default() },
        named("Alan").with(ContactField::Email, "alan@"),
    ];
    let found = codes(repo.create_many(&case, inputs, &clerk()).await);
    assert_eq!(
        found,
        [
            (Some(1), "first_name", "invalid_name"),
            (Some(3), "contact", "empty_contact"),
            (Some(4), "email", "invalid_email"),
        ]
    );
    assert_case_untouched(&repo, &case).await;
}

pub async fn create_many_of_nothing_stores_nothing(repo: Repo) {
    let case = fresh_case();
    assert!(repo.create_many(&case, Vec::new(), &clerk()).await.expect("empty batch").is_empty());
    assert_case_untouched(&repo, &case).await;
}

/// Backends may store a large batch in several statements; it must stay all or nothing.
pub async fn create_many_of_a_large_batch_is_atomic(repo: Repo) {
    let case = fresh_case();
    let valid = |i: usize| named("Ada").with(ContactField::Relationship, format!("row {i}"));
    let mut inputs: Vec<_> = (0..1_200).map(valid).collect();
    for bad in [7, 640, 1_199] {
        inputs[bad] = named("R2D2");
    }
    let found = codes(repo.create_many(&case, inputs, &clerk()).await);
    assert_eq!(
        found,
        [
            (Some(7), "first_name", "invalid_name"),
            (Some(640), "first_name", "invalid_name"),
            (Some(1_199), "first_name", "invalid_name")
        ]
    );
    assert_case_untouched(&repo, &case).await;

    let created =
        repo.create_many(&case, (0..1_200).map(valid).collect(), &clerk()).await.expect("create_many");
    let relationships: Vec<_> = created.iter().map(|c| c.relationship.clone().expect("set")).collect();
    assert_eq!(relationships, (0..1_200).map(|i| format!("row {i}")).collect::<Vec<_>>(), "input order");
    assert_eq!(repo.list_all(&case, &clerk()).await.expect("list"), created);
    assert_eq!(repo.case(&case, &clerk()).await.expect("case").contact_count, 1_200);
}
