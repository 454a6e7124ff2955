//! What a case worker meets on the pages (issue 17): addresses on several lines, tables
//! that fit a phone, form guidance, the layout of error pages, and an audit trail that
//! reads newest first in the configured time zone. The browser test (`tests/browser.rs`)
//! checks the same pages with axe-core and at phone width.

use axum::http::Method;
use renraku_web::{AppState, Auth, JwtVerifier};
use serde_json::json;

use crate::common::{ISSUER, PUBLIC_KEY, TestApp, app_under_test, full_contact, store_under_test, token};

/// The opening tag of the element with this id.
fn tag_of<'a>(page: &'a str, id: &str) -> &'a str {
    let at = page.find(&format!(r#"id="{id}""#)).unwrap_or_else(|| panic!("no #{id} in\n{page}"));
    let start = page[..at].rfind('<').unwrap();
    &page[start..at + page[at..].find('>').unwrap()]
}

async fn an_address_on_several_lines_is_shown_as_lines() {
    let app = app_under_test().await;
    let case = app.new_case();
    let form = app.get(&format!("/cases/{case}/contacts/new")).await;
    let page = form.assert_page(200);
    assert!(tag_of(page, "address").starts_with("<textarea"), "the address is a textarea");
    assert_eq!(page.matches("<textarea").count(), 1, "every other field is one line: {page}");

    let fields = [("last_name", "Lovelace"), ("address", "12 St James's Square\r\nLondon SW1Y 4LB")];
    let created = app.post_form(&format!("/cases/{case}/contacts"), &fields).await;
    let href = created.assert_status(303).location().to_owned();
    let page = app.get(&href).await;
    let page = page.assert_page(200);
    assert!(page.contains("12 St James&#39;s Square<br>London SW1Y 4LB"), "{page}");
    // The same on the confirmation of a delete and in the edit form.
    assert!(app.get(&format!("{href}/delete")).await.body.contains("Square<br>London"));
    let edit = app.get(&format!("{href}/edit")).await;
    assert!(edit.assert_page(200).contains(">12 St James&#39;s Square\nLondon SW1Y 4LB</textarea>"));
}

async fn tables_fit_a_phone_and_phone_numbers_are_links() {
    let app = app_under_test().await;
    let case = app.new_case();
    let contact = app.create(&case, full_contact()).await;
    let href = format!("/cases/{case}/contacts/{}", contact["id"].as_str().unwrap());

    let page = app.get(&format!("/cases/{case}")).await;
    let page = page.assert_page(200);
    // The table scrolls inside its own region, which a keyboard can reach and which is named.
    assert!(
        page.contains(r#"<div class="scroll" role="region" aria-label="Contacts" tabindex="0">"#),
        "{page}"
    );
    assert_eq!(page.matches(r#"<th scope="col">"#).count(), 4, "{page}");
    assert!(!page.contains("<th>"), "every header cell has a scope");
    assert!(page.contains(r#"<td class="phone"><a href="tel:+49301234567">030 1234567</a></td>"#), "{page}");

    let page = app.get(&href).await;
    let page = page.assert_page(200);
    assert!(page.contains(r#"<a class="phone" href="tel:+49301234567">030 1234567</a>"#), "{page}");
    assert!(page.contains(r#"<a class="phone" href="tel:+49301234567">+49301234567</a>"#), "{page}");

    let audit = app.get(&format!("/cases/{case}/audit")).await;
    let page = audit.assert_page(200);
    assert!(page.contains(r#"role="region" aria-label="Audit events" tabindex="0""#), "{page}");
    assert_eq!(page.matches(r#"<th scope="col">"#).count(), 5, "{page}");

    // The stylesheet lets those regions scroll, wraps long values and keeps numbers whole.
    let css = app.get("/style.css").await.body;
    for rule in [
        ".scroll { overflow-x: auto;",
        "td { overflow-wrap: anywhere; }",
        "td.phone, a.phone { white-space: nowrap; }",
        "table.wide { table-layout: fixed; min-width: 40rem; }",
    ] {
        assert!(css.contains(rule), "{rule}");
    }
}

async fn the_form_says_what_it_needs_and_keeps_the_browser_from_filling_it() {
    let app = app_under_test().await;
    let case = app.new_case();
    let page = app.get(&format!("/cases/{case}/contacts/new")).await;
    let page = page.assert_page(200);
    assert!(page.contains("Enter at least one of first name, last name, phone or email."), "{page}");
    assert!(
        page.contains(r#"<form method="post" action="/cases/"#)
            && page.contains(r#"autocomplete="off" novalidate"#)
    );
    for name in ["title", "first_name", "last_name", "phone", "email", "address", "relationship"] {
        assert!(tag_of(page, name).contains(r#"autocomplete="off""#), "{name}: {}", tag_of(page, name));
    }
    for name in ["first_name", "last_name"] {
        let tag = tag_of(page, name);
        assert!(tag.contains(r#"dir="auto""#) && tag.contains(r#"spellcheck="false""#), "{tag}");
    }
    assert!(!tag_of(page, "email").contains("dir="), "email and phone are left to right");
    // The phone's hint is tied to its input.
    assert!(tag_of(page, "phone").contains(r#"aria-describedby="phone-hint""#), "{}", tag_of(page, "phone"));
    assert!(tag_of(page, "phone-hint").starts_with("<small"));
    // Input borders have at least 3:1 against the page (WCAG 1.4.11), and focus is shown.
    let css = app.get("/style.css").await.body;
    assert!(css.contains("--control: #6b7380;") && css.contains("border: 1px solid var(--control)"));
    assert!(css.contains(":focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }"));
}

async fn error_pages_show_who_is_signed_in() {
    let app = app_under_test().await;
    for path in ["/nowhere", "/cases/x/contacts/not-an-id", "/cases/bad%20case"] {
        let response = app.get(path).await;
        let page = &response.body;
        assert!(response.status.is_client_error(), "{path}");
        assert!(page.contains("Signed in as <strong>clerk-7</strong>"), "{path}: {page}");
        assert!(!page.contains(r#"<a href="/session">Sign in</a>"#), "{path}: {page}");
    }
    let anonymous = app_under_test().await.without_bearer();
    let page = anonymous.get("/nowhere").await;
    assert!(page.assert_page(404).contains(r#"<a href="/session">Sign in</a>"#));

    let verifier = JwtVerifier::from_rsa_pem(PUBLIC_KEY, ISSUER).unwrap();
    let disabled =
        TestApp::new(AppState::new(store_under_test().await, Auth::Disabled { verifier: Some(verifier) }));
    for path in ["/nowhere", "/cases/x/contacts/not-an-id"] {
        let response = disabled.get(path).await;
        assert!(response.body.contains("Authentication disabled"), "{path}: {}", response.body);
        assert!(response.body.contains("Signed in as <strong>dev-user</strong>"), "{path}");
    }
    let _ = token();
}

async fn an_empty_case_is_the_case_page_not_an_error() {
    let app = app_under_test().await;
    let case = app.new_case();
    let page = app.get(&format!("/cases/{case}")).await;
    let page = page.assert_page(404);
    assert!(page.contains(&format!("<title>Case #{case} · renraku</title>")), "{page}");
    assert!(
        page.contains(&format!(r#"<a class="button" href="/cases/{case}/contacts/new">Add contact</a>"#))
    );
    assert!(!page.contains(r#"class="errors""#), "no error box: {page}");
}

async fn the_audit_trail_reads_newest_first_in_the_configured_time_zone() {
    let verifier = JwtVerifier::from_rsa_pem(PUBLIC_KEY, ISSUER).unwrap();
    let state = AppState::new(store_under_test().await, Auth::Jwt(verifier))
        .with_time_zone("Europe/Berlin".parse().unwrap());
    let app = TestApp::new(state).with_bearer(token());
    let case = app.new_case();
    let gone = app.create(&case, full_contact()).await;
    let kept = app.create(&case, json!({ "last_name": "Kept" })).await;
    let gone_api = format!("/api/cases/{case}/contacts/{}", gone["id"].as_str().unwrap());
    app.api(Method::PATCH, &gone_api, Some(json!({ "email": "new@example.org" }))).await.assert_status(200);
    app.api(Method::DELETE, &gone_api, None).await.assert_status(204);

    let page = app.get(&format!("/cases/{case}/audit")).await;
    let page = page.assert_page(200);
    assert!(page.contains("times in Europe/Berlin"), "{page}");
    let order: Vec<usize> = ["<td>deleted</td>", "<td>updated</td>", "<td>created</td>"]
        .iter()
        .map(|action| page.find(action).unwrap_or_else(|| panic!("{action} in {page}")))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "newest first: {page}");
    // Berlin is at +01:00 (CET) or +02:00 (CEST), never UTC.
    assert!(page.contains(" CET</time>") || page.contains(" CEST</time>"), "{page}");
    assert!(page.contains(r#"<time datetime=""#) && !page.contains(" UTC</time>"));
    assert!(page.contains("Email") && page.contains("First name, Last name, Phone, Email, Address"));
    // The contact that still exists is linked; the deleted one is not.
    let kept_href = format!(r#"<a href="/cases/{case}/contacts/{}">"#, kept["id"].as_str().unwrap());
    assert!(page.contains(&kept_href), "{page}");
    assert!(!page.contains(&format!(r#"href="/cases/{case}/contacts/{}""#, gone["id"].as_str().unwrap())));
    // The contact page shows its times in the same zone.
    let shown = app.get(&format!("/cases/{case}/contacts/{}", kept["id"].as_str().unwrap())).await;
    assert!(
        shown.body.contains(" CET by clerk-7") || shown.body.contains(" CEST by clerk-7"),
        "{}",
        shown.body
    );
}

async fn the_audit_trail_pages_back_and_forth_newest_first() {
    let app = app_under_test().await;
    let case = app.new_case();
    let contact = app.create(&case, json!({ "last_name": "Often" })).await;
    let api = format!("/api/cases/{case}/contacts/{}", contact["id"].as_str().unwrap());
    for i in 0..44 {
        let patch = json!({ "relationship": format!("r{i}") });
        app.api(Method::PATCH, &api, Some(patch)).await.assert_status(200);
    }
    // 45 events: 44 updates, then the create on the last page.
    let path = format!("/cases/{case}/audit");
    let first = app.get(&path).await.assert_page(200).to_owned();
    assert_eq!(first.matches("<td>updated</td>").count(), 20);
    assert!(first.contains(&format!("<title>Audit trail of case #{case} · renraku")));
    let next = first[first.find(r#"rel="next""#).map(|_| ()).and(first.find("?before=")).unwrap()..]
        .split('"')
        .next()
        .unwrap();
    let second = app.get(&format!("{path}{next}")).await.assert_page(200).to_owned();
    assert!(second.contains("(page 2)") && second.matches("<td>updated</td>").count() == 20, "{second}");
    assert!(second.contains(&format!(r#"<a href="{path}" rel="prev">Previous page</a>"#)), "{second}");
    let third_at = second.find(r#"rel="next""#).unwrap();
    let third = &second[second[..third_at].rfind("href=\"").unwrap() + 6..];
    let third =
        app.get(&third[..third.find('"').unwrap()].replace("&amp;", "&")).await.assert_page(200).to_owned();
    assert!(third.contains("(page 3)") && third.contains("<td>created</td>"), "{third}");
    assert_eq!(third.matches("<td>updated</td>").count(), 4);
    assert!(
        !third.contains(r#"rel="next""#) && third.contains(&format!(r#"<a href="{path}">First page</a>"#))
    );
    // New events do not move a page that starts before a given event.
    app.api(Method::PATCH, &api, Some(json!({ "relationship": "later" }))).await.assert_status(200);
    let again = app.get(&format!("{path}{next}")).await.assert_page(200).to_owned();
    assert_eq!(again.matches("<td>updated</td>").count(), 20);
    let rows = |page: &str| page[page.find("<tbody>").unwrap()..page.find("</tbody>").unwrap()].to_owned();
    assert_eq!(rows(&again), rows(&second));
}

crate::on_every_store!(
    an_address_on_several_lines_is_shown_as_lines,
    tables_fit_a_phone_and_phone_numbers_are_links,
    the_form_says_what_it_needs_and_keeps_the_browser_from_filling_it,
    error_pages_show_who_is_signed_in,
    an_empty_case_is_the_case_page_not_an_error,
    the_audit_trail_reads_newest_first_in_the_configured_time_zone,
    the_audit_trail_pages_back_and_forth_newest_first,
);
