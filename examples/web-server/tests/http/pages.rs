//! The HTML pages: every route with its statuses.

use axum::http::Method;
use serde_json::json;

use crate::common::{app_under_test, full_contact};

/// The `<div class="field">` of one form field: its input, hint and errors.
fn field_block<'a>(page: &'a str, name: &str) -> &'a str {
    let input = page.find(&format!("id=\"{name}\"")).unwrap_or_else(|| panic!("no field {name} in\n{page}"));
    let start = page[..input].rfind("<div class=\"field").unwrap();
    let end = input + page[input..].find("</div>").unwrap();
    &page[start..end]
}

fn contact_form(first_name: &str, phone: &str) -> Vec<(&'static str, String)> {
    vec![
        ("title", "Dr.".into()),
        ("first_name", first_name.into()),
        ("last_name", "Lovelace".into()),
        ("phone", phone.into()),
        ("email", "ada@example.org".into()),
        ("address", "12 St James's Square, London".into()),
        ("relationship", "colleague".into()),
    ]
}

fn pairs<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

async fn home_offers_the_case_form_and_a_csrf_cookie() {
    let app = app_under_test().await;
    let response = app.get("/").await;
    let page = response.assert_page(200);
    assert!(page.contains(r#"action="/cases""#) && page.contains(r#"name="case_id""#), "{page}");
    let csrf = response.set_cookie("renraku_csrf").expect("a CSRF cookie");
    assert!(
        csrf.contains("HttpOnly") && csrf.contains("SameSite=Strict") && csrf.contains("Path=/"),
        "{csrf}"
    );
}

async fn opening_a_case_redirects_to_its_page() {
    let app = app_under_test().await;
    let response = app.get("/cases?case_id=42").await;
    response.assert_status(303);
    assert_eq!(response.location(), "/cases/42");
    assert_eq!(app.get("/cases?case_id=+CASE-7+").await.assert_status(303).location(), "/cases/CASE-7");
    // An id that cannot be opened shows the home page again, the error beside the input.
    for bad in ["/cases", "/cases?case_id=", "/cases?case_id=a%2Fb", "/cases?case_id=%3Cb%3E"] {
        let page = app.get(bad).await.assert_page(400).to_owned();
        assert!(page.contains("<title>Error: Open a case"), "{bad}: {page}");
        let error = page.find(r#"<p class="error" id="case_id-error">"#).expect("the error");
        assert!(page[error..].contains("case id"), "{bad}: {page}");
        assert!(page.contains(r#"aria-describedby="case_id-hint case_id-error""#), "{page}");
        assert!(page.contains(r#"aria-invalid="true""#) && page.contains(r#"action="/cases""#), "{page}");
    }
    let page = app.get("/cases?case_id=a%2Fb").await.assert_page(400).to_owned();
    assert!(page.contains(r#"value="a/b""#), "what was typed is kept: {page}");
    assert!(page.contains("letters, digits"), "the allowed characters are said: {page}");
    let page = app.get("/cases?case_id=%3Cb%3E").await.assert_page(400).to_owned();
    assert!(page.contains(r#"value="&#60;b&#62;""#) || page.contains(r#"value="&lt;b&gt;""#), "{page}");
}

async fn a_case_without_contacts_is_a_404_with_a_link_to_add_one() {
    let app = app_under_test().await;
    let case = app.new_case();
    let response = app.get(&format!("/cases/{case}")).await;
    let page = response.assert_page(404);
    assert!(page.contains(&format!("No contact data found for case #{case}")), "{page}");
    assert!(page.contains(&format!(r#"href="/cases/{case}/contacts/new""#)), "{page}");
}

async fn creating_a_contact_redirects_with_a_flash_shown_once() {
    let app = app_under_test().await;
    let case = app.new_case();
    let form = app.get(&format!("/cases/{case}/contacts/new")).await;
    let page = form.assert_page(200);
    for name in
        ["title", "first_name", "last_name", "phone", "email", "address", "relationship", "csrf_token"]
    {
        assert!(page.contains(&format!(r#"name="{name}""#)), "{name} missing in\n{page}");
    }
    assert!(page.contains(&format!(r#"action="/cases/{case}/contacts""#)));
    assert!(page.contains("<title>New contact for case"), "no error in the title: {page}");

    let fields = contact_form("Ada", "+44 20 7946 0958");
    let created = app.post_form(&format!("/cases/{case}/contacts"), &pairs(&fields)).await;
    created.assert_status(303);
    let location = created.location().to_owned();
    assert!(location.starts_with(&format!("/cases/{case}/contacts/")), "{location}");
    let flash = created.set_cookie("renraku_flash").expect("a flash cookie");
    assert!(flash.contains("HttpOnly") && flash.contains("Max-Age="), "{flash}");

    let shown = app.get(&location).await;
    let page = shown.assert_page(200);
    assert!(page.contains("Contact created successfully."), "{page}");
    // The message is in the title too, which screen readers read when the page loads.
    assert!(
        page.contains("<title>Contact created successfully. Dr. Ada Lovelace · renraku</title>"),
        "{page}"
    );
    for (_, value) in &fields {
        assert!(page.contains(&value.replace('\'', "&#39;")), "{value} not shown in\n{page}");
    }
    assert!(page.contains("+442079460958"), "the E.164 form is shown");
    assert!(
        page.contains(&format!(r#"href="{location}/edit""#))
            && page.contains(&format!(r#"href="{location}/delete""#))
    );

    let again = app.get(&location).await;
    assert!(!again.assert_page(200).contains("Contact created successfully."), "a flash shows once");
    assert!(again.body.contains("<title>Dr. Ada Lovelace · renraku</title>"));

    // The case page lists it.
    let list = app.get(&format!("/cases/{case}")).await;
    let page = list.assert_page(200);
    assert!(
        page.contains(&format!("Contact data for case #{case}")) && page.contains("Dr. Ada Lovelace"),
        "{page}"
    );
    assert!(page.contains(&format!(r#"href="{location}""#)));
}

async fn invalid_input_is_a_422_with_each_error_beside_its_field_and_the_input_kept() {
    let app = app_under_test().await;
    let case = app.new_case();
    let mut fields = contact_form("R2D2", "12");
    fields[4].1 = "not-an-email".into();
    let response = app.post_form(&format!("/cases/{case}/contacts"), &pairs(&fields)).await;
    let page = response.assert_page(422);

    let first = field_block(page, "first_name");
    assert!(first.contains(r#"value="R2D2""#) && first.contains("may contain only letters"), "{first}");
    let phone = field_block(page, "phone");
    assert!(phone.contains(r#"value="12""#) && phone.contains("is not a valid phone number"), "{phone}");
    let email = field_block(page, "email");
    assert!(
        email.contains(r#"value="not-an-email""#) && email.contains("is not a valid email address"),
        "{email}"
    );
    let last = field_block(page, "last_name");
    assert!(last.contains(r#"value="Lovelace""#) && !last.contains("class=\"error\""), "{last}");
    assert!(
        phone.contains(r#"aria-invalid="true""#)
            && phone.contains(r#"aria-describedby="phone-hint phone-error""#)
    );

    // At the top: "Error:" in the title, and a summary that takes the focus and links to
    // each field with an error, in form order.
    assert!(page.contains("<title>Error: New contact for case"), "{page}");
    let summary = &page[page.find(r#"id="error-summary""#).expect("a summary")..];
    let summary = &summary[..summary.find("</section>").unwrap()];
    assert!(summary.contains("autofocus") && summary.contains(r#"tabindex="-1""#), "{summary}");
    assert!(summary.contains("Please correct these 3 errors"), "{summary}");
    let links: Vec<&str> = summary
        .match_indices(r##"href="#"##)
        .map(|(i, _)| &summary[i + 7..i + 7 + summary[i + 7..].find('"').unwrap()])
        .collect();
    assert_eq!(links, ["first_name", "phone", "email"]);
    assert!(summary.contains("Phone is not a valid phone number"), "{summary}");
    assert!(page.find(r#"id="error-summary""#) < page.find(r#"class="card stack""#), "before the form");
    assert!(page.contains("12 St James&#39;s Square, London"), "the textarea keeps its text");

    // Nothing was stored.
    app.get(&format!("/cases/{case}")).await.assert_page(404);

    // A form that cannot be read (a field twice) is a 400, not a 500.
    let twice = app
        .post_form(&format!("/cases/{case}/contacts"), &[("first_name", "Ada"), ("first_name", "Bo")])
        .await;
    assert!(twice.assert_page(400).contains("could not be read"));

    // A rule about the whole contact is shown above the form.
    let only_title = [("title", "Herr"), ("address", "Somewhere 1")];
    let response = app.post_form(&format!("/cases/{case}/contacts"), &only_title).await;
    let page = response.assert_page(422);
    let error = page.find("The contact needs at least one of first name").expect("the contact error");
    assert!(error < page.find(r#"id="title""#).unwrap(), "shown at the top of the form");
    assert!(page[error - 40..error].contains(r##"href="#first_name""##), "it links to the first name");
    assert!(page.contains("Please correct this error"));
    assert!(field_block(page, "title").contains(r#"value="Herr""#));
}

async fn showing_a_contact_checks_case_and_ids() {
    let app = app_under_test().await;
    let case = app.new_case();
    let contact = app.create(&case, full_contact()).await;
    let id = contact["id"].as_str().unwrap();

    let page = app.get(&format!("/cases/{case}/contacts/{id}")).await;
    let page = page.assert_page(200);
    for value in ["Frau", "Zoë", "Nguyễn", "030 1234567", "+49301234567", "zoe@example.org", "household"] {
        assert!(page.contains(value), "{value} in\n{page}");
    }
    assert!(page.contains("Hauptstraße 1, 10115 Berlin"));

    let other = app.new_case();
    let wrong_case = app.get(&format!("/cases/{other}/contacts/{id}")).await;
    assert!(wrong_case.assert_page(404).contains("was not found"), "another case's contact is not shown");
    let unknown = app.get(&format!("/cases/{case}/contacts/{}", renraku_core::ContactId::new())).await;
    unknown.assert_page(404);
    let malformed = app.get(&format!("/cases/{case}/contacts/not-a-uuid")).await;
    assert!(malformed.assert_page(400).contains("not a valid contact id"));
    let bad_case = app.get("/cases/bad%20case/contacts/new").await;
    assert!(bad_case.assert_page(400).contains("not a valid case id"));
    for path in ["edit", "delete"] {
        app.get(&format!("/cases/{other}/contacts/{id}/{path}")).await.assert_page(404);
        app.get(&format!("/cases/{case}/contacts/nope/{path}")).await.assert_page(400);
    }
}

async fn editing_a_contact_saves_it_with_a_flash() {
    let app = app_under_test().await;
    let case = app.new_case();
    let contact = app.create(&case, full_contact()).await;
    let href = format!("/cases/{case}/contacts/{}", contact["id"].as_str().unwrap());

    let edit = app.get(&format!("{href}/edit")).await;
    let page = edit.assert_page(200);
    assert!(page.contains(r#"name="version" value="1""#), "{page}");
    assert!(field_block(page, "first_name").contains(r#"value="Zoë""#));
    assert!(page.contains(&format!(r#"action="{href}""#)));

    let mut fields: Vec<(&str, &str)> = vec![
        ("version", "1"),
        ("title", ""),
        ("first_name", "Zoë"),
        ("last_name", "Nguyễn-Weber"),
        ("phone", "+49 30 7654321"),
        ("email", ""),
        ("address", "Hauptstraße 1, 10115 Berlin"),
        ("relationship", "household"),
    ];
    let saved = app.post_form(&href, &fields).await;
    saved.assert_status(303);
    assert_eq!(saved.location(), href);
    let page = app.get(&href).await;
    let page = page.assert_page(200);
    assert!(page.contains("Contact updated successfully.") && page.contains("Nguyễn-Weber"), "{page}");
    assert!(!page.contains("zoe@example.org") && !page.contains("Frau"), "empty fields are cleared");

    let stored = app.api(Method::GET, &format!("/api{href}"), None).await.json();
    assert_eq!(stored["version"], 2);
    assert_eq!(stored["email"], serde_json::Value::Null);

    // Invalid input keeps what was typed and the version the form was loaded with.
    fields[0] = ("version", "2");
    fields[4] = ("phone", "not a phone");
    let invalid = app.post_form(&href, &fields).await;
    let page = invalid.assert_page(422);
    assert!(page.contains(r#"name="version" value="2""#), "{page}");
    assert!(field_block(page, "phone").contains(r#"value="not a phone""#));
    assert!(field_block(page, "phone").contains("is not a valid phone number"));

    // A form without a version is refused.
    let without = app.post_form(&href, &[("first_name", "Zoë")]).await;
    assert!(without.assert_page(400).contains("version"));
    assert_eq!(app.api(Method::GET, &format!("/api{href}"), None).await.json()["version"], 2);
}

async fn a_stale_edit_is_a_409_showing_the_current_values_and_nothing_is_overwritten() {
    let app = app_under_test().await;
    let case = app.new_case();
    let contact = app.create(&case, full_contact()).await;
    let href = format!("/cases/{case}/contacts/{}", contact["id"].as_str().unwrap());
    app.get(&format!("{href}/edit")).await.assert_page(200); // the form is loaded at version 1

    // Someone else changes the phone number.
    let patch = json!({ "phone": "+49 40 5550100" });
    app.api(Method::PATCH, &format!("/api{href}"), Some(patch)).await.assert_status(200);

    let stale =
        [("version", "1"), ("first_name", "Zoë"), ("last_name", "Overwritten"), ("phone", "030 1234567")];
    let response = app.post_form(&href, &stale).await;
    let page = response.assert_page(409);
    assert!(page.contains("Nothing was saved"), "{page}");
    assert!(page.contains("+49 40 5550100"), "the current value is shown");
    assert!(page.contains("Overwritten"), "what the user typed is shown, not lost");
    assert!(page.contains(&format!(r#"href="{href}/edit""#)));
    assert!(page.contains("<title>Error: "), "{page}");

    // The rows that differ are marked in words, not only in colour; the others are not.
    let differing: Vec<&str> = page
        .match_indices(r#"<tr class="differs">"#)
        .map(|(i, _)| {
            let row = &page[i..];
            let label = &row[row.find(r#"<th scope="row">"#).unwrap() + 16..];
            &label[..label.find(' ').unwrap()]
        })
        .collect();
    // The stale form left out title, email, address and relationship: cleared, so they differ.
    assert_eq!(differing, ["Title", "Last", "Phone", "Email", "Address", "Relationship"]);
    assert_eq!(page.matches(r#"<strong class="tag">differs</strong>"#).count(), 6);
    assert!(page.contains("Your values differ from the current ones in: Title, Last name, Phone"), "{page}");

    let stored = app.api(Method::GET, &format!("/api{href}"), None).await.json();
    assert_eq!(stored["version"], 2);
    assert_eq!(stored["last_name"], "Nguyễn");
    assert_eq!(stored["phone"], "+49 40 5550100");

    // The page offers the user's values as a form against the current version: saving it
    // overwrites knowingly.
    let form = &page[page.find(&format!(r#"<form method="post" action="{href}""#)).expect("a form")..];
    assert!(form.contains(r#"name="version" value="2""#), "{form}");
    assert!(field_block(form, "last_name").contains(r#"value="Overwritten""#), "{form}");
    assert!(field_block(form, "phone").contains(r#"value="030 1234567""#), "{form}");
    let again =
        [("version", "2"), ("first_name", "Zoë"), ("last_name", "Overwritten"), ("phone", "030 1234567")];
    let saved = app.post_form(&href, &again).await;
    saved.assert_status(303);
    let stored = app.api(Method::GET, &format!("/api{href}"), None).await.json();
    assert_eq!((stored["version"].as_u64(), stored["last_name"].as_str()), (Some(3), Some("Overwritten")));
    assert_eq!(stored["phone"], "030 1234567");

    // Values that only differ in spaces do not count as different.
    app.get(&format!("{href}/edit")).await.assert_page(200);
    app.api(Method::PATCH, &format!("/api{href}"), Some(json!({ "email": "z@example.org" }))).await;
    let same =
        [("version", "3"), ("first_name", " Zoë "), ("last_name", "Overwritten"), ("phone", "030  1234567")];
    let page = app.post_form(&href, &same).await.assert_page(409).to_owned();
    assert_eq!(page.matches(r#"<tr class="differs">"#).count(), 1, "only the email: {page}");
}

async fn deleting_asks_for_confirmation_then_redirects_with_a_flash() {
    let app = app_under_test().await;
    let case = app.new_case();
    let contact = app.create(&case, full_contact()).await;
    let href = format!("/cases/{case}/contacts/{}", contact["id"].as_str().unwrap());

    let confirm = app.get(&format!("{href}/delete")).await;
    let page = confirm.assert_page(200);
    assert!(page.contains("This action cannot be reverted."), "{page}");
    assert!(
        page.contains(&format!(r#"action="{href}/delete""#)) && page.contains(r#"name="version" value="1""#)
    );

    // A confirmation of an older version does not delete the newer one.
    let stale = app.post_form(&format!("{href}/delete"), &[("version", "0")]).await;
    stale.assert_page(409);
    app.get(&href).await.assert_page(200);

    let deleted = app.post_form(&format!("{href}/delete"), &[("version", "1")]).await;
    deleted.assert_status(303);
    assert_eq!(deleted.location(), format!("/cases/{case}"));
    // The case has no contacts left: a 404 page, which still shows the flash.
    let after = app.get(&format!("/cases/{case}")).await;
    let page = after.assert_page(404);
    assert!(
        page.contains("Contact deleted successfully.") && page.contains("No contact data found"),
        "{page}"
    );
    app.get(&href).await.assert_page(404);
    app.post_form(&format!("{href}/delete"), &[("version", "1")]).await.assert_page(404);
}

/// A delete form without a version deletes nothing (400), as an update without one.
async fn deleting_without_a_version_is_a_400_and_deletes_nothing() {
    let app = app_under_test().await;
    let case = app.new_case();
    let contact = app.create(&case, full_contact()).await;
    let href = format!("/cases/{case}/contacts/{}", contact["id"].as_str().unwrap());
    for fields in [&[][..], &[("version", "")][..], &[("version", "one")][..]] {
        let page = app.post_form(&format!("{href}/delete"), fields).await;
        assert!(page.assert_page(400).contains("no valid version"), "{fields:?}");
    }
    app.get(&href).await.assert_page(200);
    app.post_form(&href, &[("first_name", "Ada")]).await.assert_page(400);
}

/// The `href` of the link with the text `text`, unescaped.
fn link_to(page: &str, text: &str) -> Option<String> {
    let end = page.find(&format!(">{text}</a>"))?;
    let tag = &page[page[..end].rfind("<a ")?..end];
    let start = tag.find("href=\"")? + 6;
    Some(tag[start..start + tag[start..].find('"')?].replace("&#38;", "&").replace("&amp;", "&"))
}

/// The names of the navigation landmarks of a page.
fn navs(page: &str) -> Vec<&str> {
    page.match_indices("<nav")
        .map(|(i, _)| {
            let tag = &page[i..i + page[i..].find('>').unwrap()];
            tag.find("aria-label=\"").map_or("", |s| &tag[s + 12..s + 12 + tag[s + 12..].find('"').unwrap()])
        })
        .collect()
}

async fn the_case_page_is_paginated_forward_and_back() {
    let app = app_under_test().await;
    let case = app.new_case();
    for i in 0..41u8 {
        let name = format!("Person {}{}", char::from(b'A' + i / 26), char::from(b'A' + i % 26));
        app.create(&case, json!({ "last_name": name })).await;
    }
    let path = format!("/cases/{case}");
    let first = app.get(&path).await;
    let page = first.assert_page(200);
    assert_eq!(page.matches("<tr>").count() - 1, 20, "20 rows and a header row");
    assert!(page.contains("Person AA") && !page.contains("Person AU"));
    assert!(page.contains(&format!("<title>Case #{case} · renraku</title>")), "no page number on page 1");
    assert_eq!(navs(page), ["Account", "Pages of contacts"], "every navigation landmark is named");
    assert_eq!((link_to(page, "Previous page"), link_to(page, "First page")), (None, None));
    let next = link_to(page, "Next page").expect("a next link");

    let second = app.get(&next).await;
    let page = second.assert_page(200).to_owned();
    assert!(page.contains("Person AU") && !page.contains("Person AA"), "{page}");
    assert!(page.contains(&format!("<title>Case #{case} (page 2) · renraku</title>")), "{page}");
    assert!(page.contains(&format!("<h1>Contact data for case #{case} (page 2)</h1>")), "{page}");
    assert_eq!(link_to(&page, "Previous page"), Some(path.clone()), "back to the first page");
    assert_eq!(link_to(&page, "First page"), None, "the previous page is the first");
    let third_link = link_to(&page, "Next page").unwrap();

    let third = app.get(&third_link).await;
    let page = third.assert_page(200).to_owned();
    assert!(page.contains("Person BO") && !page.contains("Person BN"), "the 41st contact only: {page}");
    assert!(page.contains("(page 3)") && link_to(&page, "Next page").is_none(), "{page}");
    assert_eq!(link_to(&page, "First page"), Some(path.clone()));
    let previous = link_to(&page, "Previous page").expect("a previous link");
    assert_eq!(previous, next, "back to page 2 by the link that led there");
    let again = app.get(&previous).await;
    assert!(again.assert_page(200).contains("(page 2)") && again.body.contains("Person AU"));

    let bad = app.get(&format!("/cases/{case}?after=not-a-cursor")).await;
    assert!(bad.assert_page(400).contains("not a valid page cursor"));
    let bad_trail = app.get(&format!("{third_link},nope")).await;
    assert!(bad_trail.assert_page(400).contains("not a valid page cursor"));

    // One page only: no navigation landmark for pages at all.
    let small = app.new_case();
    app.create(&small, full_contact()).await;
    let page = app.get(&format!("/cases/{small}")).await;
    assert_eq!(navs(page.assert_page(200)), ["Account"]);
    assert_eq!(navs(app.get(&format!("/cases/{}", app.new_case())).await.assert_page(404)), ["Account"]);
}

async fn the_audit_page_shows_who_did_what_to_which_fields_never_values() {
    let app = app_under_test().await;
    let case = app.new_case();
    let contact = app.create(&case, full_contact()).await;
    let href = format!("/api/cases/{case}/contacts/{}", contact["id"].as_str().unwrap());
    app.api(Method::PATCH, &href, Some(json!({ "email": "new@example.org" }))).await.assert_status(200);
    app.api(Method::DELETE, &href, None).await.assert_status(204);

    let audit = app.get(&format!("/cases/{case}/audit")).await;
    let page = audit.assert_page(200);
    for expected in ["created", "updated", "deleted", "clerk-7", "First name", "Email"] {
        assert!(page.contains(expected), "{expected} in\n{page}");
    }
    assert!(!page.contains("first_name"), "labels, not names: {page}");
    for value in ["Zoë", "zoe@example.org", "new@example.org", "030 1234567", "Hauptstraße"] {
        assert!(!page.contains(value), "the audit page shows the value {value}");
    }
    assert!(app.get(&format!("/cases/{case}/audit?before=x")).await.assert_page(400).contains("cursor"));
    let empty = app.get(&format!("/cases/{}/audit", app.new_case())).await;
    assert!(empty.assert_page(200).contains("No changes recorded."));
}

async fn erasing_a_case_asks_for_confirmation_then_erases_everything() {
    let app = app_under_test().await;
    let case = app.new_case();
    app.create(&case, full_contact()).await;
    app.create(&case, json!({ "phone": "+49 30 1111111" })).await;

    let confirm = app.get(&format!("/cases/{case}/erase")).await;
    let page = confirm.assert_page(200);
    assert!(
        page.contains("All 2 contact(s)") && page.contains(&format!(r#"action="/cases/{case}/erase""#)),
        "{page}"
    );

    let erased = app.post_form(&format!("/cases/{case}/erase"), &[]).await;
    erased.assert_status(303);
    assert_eq!(erased.location(), "/");
    assert!(app.get("/").await.assert_page(200).contains("All contact data of the case was erased."));
    app.get(&format!("/cases/{case}")).await.assert_page(404);
    app.get(&format!("/cases/{case}/erase")).await.assert_page(404);
    app.post_form(&format!("/cases/{case}/erase"), &[]).await.assert_page(404);
    let audit = app.get(&format!("/cases/{case}/audit")).await;
    assert!(audit.assert_page(200).contains("case_erased"), "the audit trail is kept");
}

async fn unknown_pages_and_methods_answer_pages() {
    let app = app_under_test().await;
    assert!(app.get("/nowhere").await.assert_page(404).contains("There is no such page."));
    let case = app.new_case();
    let wrong_method = app.get(&format!("/cases/{case}/contacts")).await;
    wrong_method.assert_page(405);
    assert!(wrong_method.header("allow").is_some_and(|allow| allow.contains("POST")));
}

async fn the_stylesheet_is_served() {
    let app = app_under_test().await;
    let css = app.get("/style.css").await;
    css.assert_status(200);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert!(css.body.contains("font") && css.body.len() < 8 * 1024);
}

crate::on_every_store!(
    home_offers_the_case_form_and_a_csrf_cookie,
    opening_a_case_redirects_to_its_page,
    a_case_without_contacts_is_a_404_with_a_link_to_add_one,
    creating_a_contact_redirects_with_a_flash_shown_once,
    invalid_input_is_a_422_with_each_error_beside_its_field_and_the_input_kept,
    showing_a_contact_checks_case_and_ids,
    editing_a_contact_saves_it_with_a_flash,
    a_stale_edit_is_a_409_showing_the_current_values_and_nothing_is_overwritten,
    deleting_asks_for_confirmation_then_redirects_with_a_flash,
    the_case_page_is_paginated_forward_and_back,
    deleting_without_a_version_is_a_400_and_deletes_nothing,
    the_audit_page_shows_who_did_what_to_which_fields_never_values,
    erasing_a_case_asks_for_confirmation_then_erases_everything,
    unknown_pages_and_methods_answer_pages,
    the_stylesheet_is_served,
);
