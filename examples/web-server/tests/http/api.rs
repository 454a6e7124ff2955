//! The JSON API: every route with its statuses, and its problem documents.

use axum::body::Body;
use axum::http::{Method, Request};
use renraku_core::ContactId;
use serde_json::{Value, json};

use crate::common::{app_under_test, app_with_store_down, full_contact, token};

fn contacts(case: &str) -> String {
    format!("/api/cases/{case}/contacts")
}

async fn create_answers_201_with_location_etag_and_the_contact_at_top_level() {
    let app = app_under_test().await;
    let case = app.new_case();
    let response = app.api(Method::POST, &contacts(&case), Some(full_contact())).await;
    response.assert_status(201);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.header("etag"), Some("\"1\""));
    let contact = response.json();
    let id = contact["id"].as_str().unwrap();
    assert_eq!(response.location(), format!("/api/cases/{case}/contacts/{id}"));
    assert_eq!(contact["case_id"], case.as_str());
    assert_eq!(contact["first_name"], "Zoë");
    assert_eq!(contact["phone_e164"], "+49301234567");
    assert_eq!(contact["version"], 1);
    assert_eq!(contact["created_by"], "clerk-7");
    for key in
        ["created_at", "updated_at", "updated_by", "title", "last_name", "email", "address", "relationship"]
    {
        assert!(contact.get(key).is_some(), "{key} missing in {contact}");
    }

    let fetched = app.api(Method::GET, response.location(), None).await;
    fetched.assert_status(200);
    assert_eq!(fetched.header("etag"), Some("\"1\""));
    assert_eq!(fetched.json(), contact);

    let cached = app.api_with(Method::GET, response.location(), None, &[("if-none-match", "\"1\"")]).await;
    cached.assert_status(304);
    assert!(cached.body.is_empty());
}

async fn lists_are_paged_with_after_and_limit() {
    let app = app_under_test().await;
    let case = app.new_case();
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            app.create(&case, json!({ "last_name": format!("Person {}", char::from(b'A' + i)) })).await["id"]
                .clone(),
        );
    }
    let all = app.api(Method::GET, &contacts(&case), None).await;
    all.assert_status(200);
    let all = all.json();
    assert_eq!(all["items"].as_array().unwrap().iter().map(|c| c["id"].clone()).collect::<Vec<_>>(), ids);
    assert_eq!(all["next"], Value::Null);

    let first = app.api(Method::GET, &format!("{}?limit=2", contacts(&case)), None).await.json();
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let next = first["next"].as_str().expect("a next cursor");
    let second =
        app.api(Method::GET, &format!("{}?limit=2&after={next}", contacts(&case)), None).await.json();
    assert_eq!(second["items"][0]["id"], ids[2]);
    assert_eq!(second["next"], Value::Null);

    for bad in ["?limit=0", "?limit=501", "?limit=ten", "?after=nope"] {
        app.api(Method::GET, &format!("{}{bad}", contacts(&case)), None).await.assert_problem(400);
    }
    let empty = app.api(Method::GET, &contacts(&app.new_case()), None).await;
    assert_eq!(empty.assert_status(200).json(), json!({ "items": [], "next": null }));
}

async fn patch_is_a_merge_patch_that_honours_if_match() {
    let app = app_under_test().await;
    let case = app.new_case();
    let contact = app.create(&case, full_contact()).await;
    let href = format!("{}/{}", contacts(&case), contact["id"].as_str().unwrap());

    // Missing keeps, null clears, a string sets.
    let patch = json!({ "email": "neu@example.org", "title": null });
    let response = app.api_with(Method::PATCH, &href, Some(patch), &[("if-match", "\"1\"")]).await;
    response.assert_status(200);
    assert_eq!(response.header("etag"), Some("\"2\""));
    let updated = response.json();
    assert_eq!(updated["email"], "neu@example.org");
    assert_eq!(updated["title"], Value::Null);
    assert_eq!(updated["first_name"], "Zoë");

    // A stale If-Match: 412, nothing written.
    let stale =
        app.api_with(Method::PATCH, &href, Some(json!({ "email": null })), &[("if-match", "\"1\"")]).await;
    let problem = stale.assert_problem(412);
    assert_eq!(problem["current_version"], 2);
    let weak =
        app.api_with(Method::PATCH, &href, Some(json!({ "email": null })), &[("if-match", "W/\"2\"")]).await;
    weak.assert_problem(412);
    let listed =
        app.api_with(Method::PATCH, &href, Some(json!({ "email": null })), &[("if-match", "\"7\", \"8\"")]);
    listed.await.assert_problem(412);
    assert_eq!(app.api(Method::GET, &href, None).await.json()["email"], "neu@example.org");

    let malformed = app.api_with(Method::PATCH, &href, Some(json!({})), &[("if-match", "2")]).await;
    malformed.assert_problem(400);
    let any = app.api_with(
        Method::PATCH,
        &href,
        Some(json!({ "relationship": "neighbour" })),
        &[("if-match", "*")],
    );
    assert_eq!(any.await.assert_status(200).header("etag"), Some("\"3\""));
    let in_list =
        app.api_with(Method::PATCH, &href, Some(json!({ "title": "Dr." })), &[("if-match", "\"1\", \"3\"")]);
    assert_eq!(in_list.await.assert_status(200).header("etag"), Some("\"4\""));
    let unconditional = app.api(Method::PATCH, &href, Some(json!({ "address": null }))).await;
    assert_eq!(unconditional.assert_status(200).json()["version"], 5);

    // A patch that leaves nobody to contact is a 422 naming the contact.
    let empty = json!({ "first_name": null, "last_name": null, "phone": null, "email": null });
    let problem = app.api(Method::PATCH, &href, Some(empty)).await.assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "contact");
    assert_eq!(problem["errors"][0]["code"], "empty_contact");
}

async fn delete_honours_if_match() {
    let app = app_under_test().await;
    let case = app.new_case();
    let contact = app.create(&case, full_contact()).await;
    let href = format!("{}/{}", contacts(&case), contact["id"].as_str().unwrap());
    app.api_with(Method::DELETE, &href, None, &[("if-match", "\"2\"")]).await.assert_problem(412);
    let deleted = app.api_with(Method::DELETE, &href, None, &[("if-match", "\"1\"")]).await;
    deleted.assert_status(204);
    assert!(deleted.body.is_empty());
    app.api(Method::GET, &href, None).await.assert_problem(404);
    app.api(Method::DELETE, &href, None).await.assert_problem(404);
    app.api(Method::PATCH, &href, Some(json!({ "title": "x" }))).await.assert_problem(404);
}

async fn bodies_answer_400_422_415_as_documented() {
    let app = app_under_test().await;
    let case = app.new_case();
    let path = contacts(&case);

    let malformed = Request::post(&path)
        .header("authorization", format!("Bearer {}", token()))
        .header("content-type", "application/json")
        .body(Body::from(r#"{"first_name": "Ada""#))
        .unwrap();
    app.raw(malformed).await.assert_problem(400);

    let unknown_field =
        app.api(Method::POST, &path, Some(json!({ "first_name": "Ada", "case_id": "7" }))).await;
    assert!(unknown_field.assert_problem(422)["detail"].as_str().unwrap().contains("case_id"));
    let wrong_type = app.api(Method::POST, &path, Some(json!({ "first_name": 5 }))).await;
    wrong_type.assert_problem(422);
    let not_an_object = app.api(Method::POST, &path, Some(json!("Ada"))).await;
    not_an_object.assert_problem(422);

    let invalid = app.api(Method::POST, &path, Some(json!({ "first_name": "R2D2", "email": "nope" }))).await;
    let problem = invalid.assert_problem(422);
    let errors = problem["errors"].as_array().unwrap();
    let fields: Vec<&str> = errors.iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["first_name", "email"]);
    assert!(errors.iter().all(|e| e["code"].is_string() && e["message"].is_string()));
    assert!(!problem.to_string().contains("R2D2"), "problems never echo the values");

    let no_content_type = Request::post(&path)
        .header("authorization", format!("Bearer {}", token()))
        .body(Body::from(r#"{"first_name": "Ada"}"#))
        .unwrap();
    app.raw(no_content_type).await.assert_problem(415);
    app.api(Method::GET, &path, None).await.assert_status(200);
}

async fn the_audit_trail_names_fields_never_values() {
    let app = app_under_test().await;
    let case = app.new_case();
    let contact = app.create(&case, json!({ "first_name": "Ada", "email": "ada@example.org" })).await;
    let href = format!("{}/{}", contacts(&case), contact["id"].as_str().unwrap());
    app.api(Method::PATCH, &href, Some(json!({ "email": "lovelace@example.org" }))).await.assert_status(200);

    let audit = app.api(Method::GET, &format!("/api/cases/{case}/audit"), None).await;
    let audit = audit.assert_status(200).json();
    let items = audit["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["action"], "created");
    assert_eq!(items[0]["changed_fields"], json!(["first_name", "email"]));
    assert_eq!(items[1]["action"], "updated");
    assert_eq!(items[1]["changed_fields"], json!(["email"]));
    assert_eq!(items[1]["actor"], "clerk-7");
    assert_eq!(audit["next"], Value::Null);
    assert!(!audit.to_string().contains("example.org") && !audit.to_string().contains("Ada"));

    let page = app.api(Method::GET, &format!("/api/cases/{case}/audit?limit=1"), None).await.json();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert!(page["next"].is_string());
    app.api(Method::GET, &format!("/api/cases/{case}/audit?after=bad"), None).await.assert_problem(400);
}

async fn malformed_ids_unknown_routes_and_methods_answer_problems() {
    let app = app_under_test().await;
    let case = app.new_case();
    let bad_case = app.api(Method::GET, "/api/cases/bad%20case/contacts", None).await.assert_problem(400);
    assert!(bad_case["detail"].as_str().unwrap().contains("case id"));
    app.api(Method::GET, &format!("{}/not-a-uuid", contacts(&case)), None).await.assert_problem(400);
    app.api(Method::GET, &format!("{}/{}", contacts(&case), ContactId::new()), None)
        .await
        .assert_problem(404);
    app.api(Method::GET, "/api/nothing", None).await.assert_problem(404);
    let wrong_method = app.api(Method::PUT, &contacts(&case), Some(json!({}))).await;
    wrong_method.assert_problem(405);
    assert!(wrong_method.header("allow").is_some());
    app.api(Method::POST, "/api/heartbeat", None).await.assert_problem(405);
}

/// On a PostgreSQL store whose server is down, whatever store the other tests run on.
#[tokio::test]
async fn a_failing_store_is_a_503_with_a_generic_message() {
    let app = app_with_store_down();
    let id = ContactId::new();
    let problem =
        app.api(Method::GET, &format!("/api/cases/7/contacts/{id}"), None).await.assert_problem(503);
    assert!(!problem["detail"].as_str().unwrap().contains("refused"), "{problem}");
    app.api(Method::POST, "/api/cases/7/contacts", Some(full_contact())).await.assert_problem(503);
    let page = app.get("/cases/7").await;
    let page = page.assert_page(503);
    assert!(page.contains("not available right now") && !page.contains("refused"), "{page}");
    app.post_form("/cases/7/contacts", &[("first_name", "Ada")]).await.assert_page(503);
}

/// `If-Match` on a contact that does not exist: no current version can match, so the
/// precondition fails (412), for `*` too (RFC 9110 §13.1.1); without it, 404.
async fn if_match_on_a_missing_contact_is_412() {
    let app = app_under_test().await;
    let case = app.new_case();
    let contact = app.create(&case, full_contact()).await;
    let gone = format!("{}/{}", contacts(&case), ContactId::new());
    for if_match in ["*", "\"1\"", "\"1\", \"2\""] {
        let headers = [("if-match", if_match)];
        let patch = app.api_with(Method::PATCH, &gone, Some(json!({ "title": "x" })), &headers).await;
        let problem = patch.assert_problem(412);
        assert!(problem["detail"].as_str().unwrap().contains("does not exist"), "{problem}");
        app.api_with(Method::DELETE, &gone, None, &[("if-match", if_match)]).await.assert_problem(412);
    }
    app.api(Method::DELETE, &gone, None).await.assert_problem(404);
    // The contact that does exist is untouched.
    let href = format!("{}/{}", contacts(&case), contact["id"].as_str().unwrap());
    assert_eq!(app.api(Method::GET, &href, None).await.json()["version"], 1);
}

crate::on_every_store!(
    create_answers_201_with_location_etag_and_the_contact_at_top_level,
    lists_are_paged_with_after_and_limit,
    patch_is_a_merge_patch_that_honours_if_match,
    delete_honours_if_match,
    bodies_answer_400_422_415_as_documented,
    the_audit_trail_names_fields_never_values,
    malformed_ids_unknown_routes_and_methods_answer_problems,
    if_match_on_a_missing_contact_is_412,
);
