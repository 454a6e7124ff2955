//! Search across cases.

use super::*;

async fn find_all(repo: &Repo, query: ContactQuery) -> Vec<Contact> {
    let clerk = clerk();
    walk(|request| repo.find(query.clone(), request, &clerk), 2).await.concat()
}

pub async fn find_by_phone_matches_any_formatting(repo: Repo) {
    let (a, b) = (fresh_case(), fresh_case());
    let first = repo
        .create(&a, named("Ada").with(ContactField::Phone, "+49 30 1234567"), &clerk())
        .await
        .expect("create");
    let second = repo
        .create(&b, named("Grace").with(ContactField::Phone, "030/1234567"), &clerk())
        .await
        .expect("create");
    repo.create(&b, named("Alan").with(ContactField::Phone, "+49 30 7654321"), &clerk())
        .await
        .expect("create");
    for query in ["+49301234567", "(030) 123-4567", "0049 30 1234567"] {
        let found = find_all(&repo, ContactQuery::Phone(query.into())).await;
        assert_eq!(found, [first.clone(), second.clone()], "{query}");
    }
    assert!(find_all(&repo, ContactQuery::Phone("+49 30 1111111".into())).await.is_empty());
}

pub async fn find_by_email_ignores_case(repo: Repo) {
    let (a, b) = (fresh_case(), fresh_case());
    let first = repo
        .create(&a, NewContact::default().with(ContactField::Email, "Ada@Example.org"), &clerk())
        .await
        .expect("create");
    let second = repo
        .create(&b, NewContact::default().with(ContactField::Email, "ada@example.ORG"), &clerk())
        .await
        .expect("create");
    repo.create(&b, NewContact::default().with(ContactField::Email, "ada@example.net"), &clerk())
        .await
        .expect("create");
    let found = find_all(&repo, ContactQuery::Email("  ADA@EXAMPLE.ORG ".into())).await;
    assert_eq!(found, [first, second]);
    assert!(
        find_all(&repo, ContactQuery::Email("ada@example".into())).await.is_empty(),
        "whole addresses only"
    );
}

pub async fn find_by_name_prefix_ignores_case(repo: Repo) {
    let case = fresh_case();
    let nguyen = repo
        .create(&case, NewContact::default().with(ContactField::LastName, "Nguyễn"), &clerk())
        .await
        .expect("create");
    let ueli = repo
        .create(&case, named("Ülrich").with(ContactField::LastName, "Meier"), &clerk())
        .await
        .expect("create");
    let ma = repo
        .create(&case, named("Ma").with(ContactField::LastName, "Nguyen"), &clerk())
        .await
        .expect("create");
    assert_eq!(find_all(&repo, ContactQuery::NamePrefix("NGUY".into())).await, [nguyen.clone(), ma.clone()]);
    assert_eq!(find_all(&repo, ContactQuery::NamePrefix("nguyễ".into())).await, [nguyen]);
    assert_eq!(
        find_all(&repo, ContactQuery::NamePrefix("üL".into())).await,
        std::slice::from_ref(&ueli),
        "first names too"
    );
    assert_eq!(find_all(&repo, ContactQuery::NamePrefix("mei".into())).await, [ueli]);
    assert!(find_all(&repo, ContactQuery::NamePrefix("guy".into())).await.is_empty(), "prefixes only");
    assert!(find_all(&repo, ContactQuery::NamePrefix("M%".into())).await.is_empty(), "no wildcards");
    assert!(find_all(&repo, ContactQuery::NamePrefix("_a".into())).await.is_empty(), "no wildcards");
    assert_eq!(find_all(&repo, ContactQuery::NamePrefix("Ma".into())).await, [ma]);
}

/// Full Unicode case folding, for stored names and queries alike: a capital sigma inside a
/// word and at its end folds like the small ones, `ẞ`/`ß` like `ss`.
pub async fn find_by_name_prefix_folds_case_fully(repo: Repo) {
    let case = fresh_case();
    let odysseus = repo
        .create(&case, NewContact::default().with(ContactField::FirstName, "Οδυσσέας"), &clerk())
        .await
        .expect("create");
    let strasse = repo
        .create(&case, NewContact::default().with(ContactField::LastName, "Straße"), &clerk())
        .await
        .expect("create");
    for query in ["ΟΔΥΣ", "οδυσ", "Οδυς", "ΟΔΥΣΣΈ"] {
        assert_eq!(
            find_all(&repo, ContactQuery::NamePrefix(query.into())).await,
            std::slice::from_ref(&odysseus),
            "{query}"
        );
    }
    for query in ["STRASSE", "strass", "STRAẞE", "straße"] {
        assert_eq!(
            find_all(&repo, ContactQuery::NamePrefix(query.into())).await,
            std::slice::from_ref(&strasse),
            "{query}"
        );
    }
}

pub async fn find_crosses_cases_and_pages(repo: Repo) {
    let mut expected = Vec::new();
    for _ in 0..5 {
        let case = fresh_case();
        repo.create(&case, named("Other").with(ContactField::Email, "other@example.org"), &clerk())
            .await
            .expect("create");
        expected.push(
            repo.create(&case, named("Ada").with(ContactField::Email, "shared@example.org"), &clerk())
                .await
                .expect("create"),
        );
    }
    let clerk = clerk();
    let pages =
        walk(|request| repo.find(ContactQuery::Email("shared@example.org".into()), request, &clerk), 2).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
    assert_eq!(pages.concat(), expected, "every match once, oldest first");
    let cases: HashSet<_> = expected.iter().map(|c| &c.case_id).collect();
    assert_eq!(cases.len(), 5);
}

pub async fn find_rejects_blank_and_invalid_queries(repo: Repo) {
    for query in [
        ContactQuery::Phone("  ".into()),
        ContactQuery::Email(String::new()),
        ContactQuery::NamePrefix(" \t ".into()),
        ContactQuery::Phone("12".into()),
        ContactQuery::NamePrefix("a\u{0}".into()),
    ] {
        let found = codes(repo.find(query.clone(), PageRequest::default(), &clerk()).await);
        assert_eq!(found.len(), 1, "{query:?}");
        assert_eq!(found[0].1, "query");
    }
}

pub async fn find_skips_deleted_and_erased_contacts(repo: Repo) {
    let (a, b) = (fresh_case(), fresh_case());
    let deleted = repo
        .create(&a, named("Ada").with(ContactField::Email, "gone@example.org"), &clerk())
        .await
        .expect("create");
    repo.create(&b, named("Ada").with(ContactField::Email, "gone@example.org"), &clerk())
        .await
        .expect("create");
    let kept = repo
        .create(&a, named("Ada").with(ContactField::Email, "kept@example.org"), &clerk())
        .await
        .expect("create");
    repo.delete(&a, deleted.id, None, &clerk()).await.expect("delete");
    repo.erase_case(&b, &clerk()).await.expect("erase");
    assert!(find_all(&repo, ContactQuery::Email("gone@example.org".into())).await.is_empty());
    assert_eq!(find_all(&repo, ContactQuery::NamePrefix("ada".into())).await, [kept]);
}
