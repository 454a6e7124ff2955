//! One person across cases: the search page, the JSON export with audit trails, and the
//! erase with its confirmation step.

use axum::http::Method;
use serde_json::{Value, json};

use crate::common::{TestApp, USER, app_under_test};

/// The same person (by phone, written two ways) in two cases, and someone else.
async fn one_person_in_two_cases(app: &TestApp) -> (String, String, Value, Value, Value) {
    let (first, second) = (app.new_case(), app.new_case());
    let a = app
        .create(&first, json!({"first_name": "Zoë", "phone": "030 1234567", "email": "zoe@example.org"}))
        .await;
    let b = app.create(&second, json!({"last_name": "Nguyễn", "phone": "+49 30 1234567"})).await;
    let other = app.create(&first, json!({"first_name": "Ada", "phone": "030 7654321"})).await;
    (first, second, a, b, other)
}

fn reference(contact: &Value) -> String {
    format!("{}/{}", contact["case_id"].as_str().unwrap(), contact["id"].as_str().unwrap())
}

async fn audit_actions(app: &TestApp, case: &str) -> Vec<(String, String)> {
    let page = app.api(Method::GET, &format!("/api/cases/{case}/audit?limit=500"), None).await;
    page.assert_status(200);
    page.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (e["action"].as_str().unwrap().to_owned(), e["actor"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

async fn the_person_page_lists_the_matches_by_case() {
    let app = app_under_test().await;
    let form = app.get("/people").await;
    let page = form.assert_page(200);
    assert!(page.contains(r#"action="/people""#) && page.contains(r#"name="q""#), "{page}");
    assert!(page.contains(r#"method="post""#), "the search is never in a URL: {page}");
    assert!(app.get("/").await.body.contains(r#"href="/people""#));

    let (first, second, a, b, other) = one_person_in_two_cases(&app).await;
    let response = app.post_form("/people", &[("kind", "phone"), ("q", "+49 (30) 123 45 67")]).await;
    let page = response.assert_page(200);
    assert!(page.contains("2 matching contact(s)"), "{page}");
    // Each match under the heading of its case.
    let sections: Vec<&str> = page.split("<h3>Case ").skip(1).collect();
    assert_eq!(sections.len(), 2, "{page}");
    for (case, mine, theirs) in [(&first, &a, &b), (&second, &b, &a)] {
        let section = sections.iter().find(|s| s.contains(&format!("#{case}</a>"))).unwrap();
        assert!(section.contains(&reference(mine)) && !section.contains(&reference(theirs)), "{section}");
    }
    assert!(page.contains("Zoë") && page.contains("Nguyễn"));
    assert!(!page.contains(&reference(&other)) && !page.contains("Ada"), "{page}");
    assert!(page.contains(r#"action="/people/export""#) && page.contains(r#"action="/people/erase""#));

    let page = app.post_form("/people", &[("kind", "email"), ("q", "ZOE@example.org")]).await;
    assert!(page.assert_page(200).contains("1 matching contact(s)"), "{}", page.body);
    let page = app.post_form("/people", &[("kind", "name"), ("q", "ngu")]).await;
    assert!(page.assert_page(200).contains(&reference(&b)), "{}", page.body);
    let page = app.post_form("/people", &[("kind", "name"), ("q", "Nobody")]).await;
    assert!(page.assert_page(200).contains("No contact matches"), "{}", page.body);
    // A blank or invalid search: the form again, with the error.
    let page = app.post_form("/people", &[("kind", "phone"), ("q", "  ")]).await;
    assert!(page.assert_page(422).contains(r#"aria-invalid="true""#), "{}", page.body);
    let page = app.post_form("/people", &[("kind", "phone"), ("q", "not a phone")]).await;
    assert!(page.assert_page(422).contains("The search is not valid"), "{}", page.body);
}

async fn the_export_is_a_json_download_with_the_audit_trails() {
    let app = app_under_test().await;
    let (first, _, a, b, _) = one_person_in_two_cases(&app).await;
    let response = app.post_form("/people/export", &[("kind", "phone"), ("q", "030 1234567")]).await;
    response.assert_status(200);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.header("content-disposition"), Some("attachment; filename=\"person-export.json\""));
    assert_eq!(response.header("cache-control"), Some("no-store"));
    let export = response.json();
    assert_eq!(export["complete"], true);
    let records = export["records"].as_array().unwrap();
    let ids: Vec<&Value> = records.iter().map(|r| &r["contact"]["id"]).collect();
    assert_eq!(ids, [&a["id"], &b["id"]]);
    assert_eq!(records[0]["contact"]["first_name"], "Zoë");
    let trail = records[0]["trail"].as_array().unwrap();
    assert_eq!(trail[0]["action"], "created");
    // The export is in the audit trail.
    assert!(audit_actions(&app, &first).await.contains(&("exported".to_owned(), USER.to_owned())));
    // A search without results exports nothing; an invalid one is the form again.
    let none = app.post_form("/people/export", &[("kind", "email"), ("q", "nobody@example.org")]).await;
    assert_eq!(none.json()["records"], json!([]));
    app.post_form("/people/export", &[("kind", "email"), ("q", "")]).await.assert_page(422);
}

async fn erasing_asks_for_confirmation_then_erases_the_selected_contacts() {
    let app = app_under_test().await;
    let (first, second, a, b, other) = one_person_in_two_cases(&app).await;
    let (ra, rb) = (reference(&a), reference(&b));
    let fields =
        [("kind", "phone"), ("q", "030 1234567"), ("contact", ra.as_str()), ("contact", rb.as_str())];
    let confirm = app.post_form("/people/erase", &fields).await;
    let page = confirm.assert_page(200);
    assert!(
        page.contains("Erase 2 contact(s)?") && page.contains("Zoë") && page.contains(r#"name="confirm""#),
        "{page}"
    );
    // Nothing is erased before the confirmation.
    let path = |c: &Value| {
        format!("/api/cases/{}/contacts/{}", c["case_id"].as_str().unwrap(), c["id"].as_str().unwrap())
    };
    app.api(Method::GET, &path(&a), None).await.assert_status(200);

    let mut confirmed = fields.to_vec();
    confirmed.push(("confirm", "yes"));
    let done = app.post_form("/people/erase", &confirmed).await;
    assert!(done.assert_page(200).contains("2 contact(s) erased"), "{}", done.body);
    app.api(Method::GET, &path(&a), None).await.assert_status(404);
    app.api(Method::GET, &path(&b), None).await.assert_status(404);
    app.api(Method::GET, &path(&other), None).await.assert_status(200);
    for case in [&first, &second] {
        assert!(audit_actions(&app, case).await.contains(&("erased".to_owned(), USER.to_owned())), "{case}");
    }
    // Again: they are gone, nothing left to erase.
    let again = app.post_form("/people/erase", &fields).await;
    assert!(again.assert_page(200).contains("Nothing to erase"), "{}", again.body);
    // No selection, or one that cannot be read.
    app.post_form("/people/erase", &[("kind", "phone"), ("q", "x")]).await.assert_page(400);
    app.post_form("/people/erase", &[("contact", "no-id-here")]).await.assert_page(400);
}

async fn the_person_forms_need_the_csrf_token() {
    let app = app_under_test().await;
    let (_, _, a, _, _) = one_person_in_two_cases(&app).await;
    let ra = reference(&a);
    for (path, fields) in [
        ("/people", vec![("kind", "phone"), ("q", "030 1234567")]),
        ("/people/export", vec![("kind", "phone"), ("q", "030 1234567")]),
        ("/people/erase", vec![("contact", ra.as_str()), ("confirm", "yes")]),
    ] {
        app.get("/people").await;
        app.post_form_raw(path, &fields).await.assert_page(403);
    }
    let path =
        format!("/api/cases/{}/contacts/{}", a["case_id"].as_str().unwrap(), a["id"].as_str().unwrap());
    app.api(Method::GET, &path, None).await.assert_status(200);
}

crate::on_every_store!(
    the_person_page_lists_the_matches_by_case,
    the_export_is_a_json_download_with_the_audit_trails,
    erasing_asks_for_confirmation_then_erases_the_selected_contacts,
    the_person_forms_need_the_csrf_token,
);
