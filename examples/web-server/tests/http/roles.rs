//! Who may use which route: every role × route, on memory and on PostgreSQL.
//!
//! [`TABLE`] is the single source of the role × route table of the README: the test runs
//! every cell against the real router (a fresh case with one contact per cell, so each
//! request sees the same data), and checks that the README shows exactly this table.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};

use crate::common::{
    ISSUER, PRIVATE_KEY, PUBLIC_KEY, TestApp, TestResponse, claims, sign, store_under_test,
    store_with_read_audit,
};
use renraku_web::{AppState, Auth, JwtVerifier};

/// A column of the table: what the token says about roles and cases.
struct Column {
    /// The column's heading in the README.
    heading: &'static str,
    /// The `roles` claim; `None` leaves it out (the server's default roles apply).
    roles: Option<&'static [&'static str]>,
    /// Whether the token is restricted (`cases` claim) to another case than the one used.
    other_case: bool,
}

const ALL_ROLES: &[&str] = &["reader", "editor", "eraser", "auditor", "searcher", "privacy", "retention"];

const COLUMNS: [Column; 11] = [
    Column { heading: "reader", roles: Some(&["reader"]), other_case: false },
    Column { heading: "editor", roles: Some(&["editor"]), other_case: false },
    Column { heading: "reader, editor", roles: Some(&["reader", "editor"]), other_case: false },
    Column { heading: "eraser", roles: Some(&["eraser"]), other_case: false },
    Column { heading: "auditor", roles: Some(&["auditor"]), other_case: false },
    Column { heading: "searcher", roles: Some(&["searcher"]), other_case: false },
    Column { heading: "privacy", roles: Some(&["privacy"]), other_case: false },
    Column { heading: "retention", roles: Some(&["retention"]), other_case: false },
    Column { heading: "`[]`", roles: Some(&[]), other_case: false },
    Column { heading: "no `roles` claim", roles: None, other_case: false },
    Column { heading: "every role, other `cases`", roles: Some(ALL_ROLES), other_case: true },
];

/// Every route that touches contact data: method, path (`{case}` and `{id}` stand for the
/// case and its contact), and the status each column gets. 403 is a denial; anything else
/// is the route's success.
#[rustfmt::skip]
const TABLE: [(&str, &str, [u16; 11]); 27] = [
    ("GET",    "/cases/{case}",                          [200, 403, 200, 403, 403, 403, 403, 403, 403, 200, 403]),
    ("GET",    "/cases/{case}/contacts/new",             [403, 200, 200, 403, 403, 403, 403, 403, 403, 200, 403]),
    ("POST",   "/cases/{case}/contacts",                 [403, 303, 303, 403, 403, 403, 403, 403, 403, 303, 403]),
    ("GET",    "/cases/{case}/contacts/{id}",            [200, 403, 200, 403, 403, 403, 403, 403, 403, 200, 403]),
    ("GET",    "/cases/{case}/contacts/{id}/edit",       [403, 403, 200, 403, 403, 403, 403, 403, 403, 200, 403]),
    ("POST",   "/cases/{case}/contacts/{id}",            [403, 303, 303, 403, 403, 403, 403, 403, 403, 303, 403]),
    ("GET",    "/cases/{case}/contacts/{id}/delete",     [403, 403, 200, 403, 403, 403, 403, 403, 403, 200, 403]),
    ("POST",   "/cases/{case}/contacts/{id}/delete",     [403, 303, 303, 403, 403, 403, 403, 403, 403, 303, 403]),
    ("GET",    "/cases/{case}/audit",                    [403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403]),
    ("GET",    "/audit",                                 [403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403]),
    ("GET",    "/cases/{case}/erase",                    [403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 403]),
    ("POST",   "/cases/{case}/erase",                    [403, 403, 403, 303, 403, 403, 403, 403, 403, 303, 403]),
    ("GET",    "/cases/{case}/contacts.csv",             [200, 403, 200, 403, 403, 403, 403, 403, 403, 200, 403]),
    ("GET",    "/cases/{case}/import",                   [403, 200, 200, 403, 403, 403, 403, 403, 403, 200, 403]),
    ("POST",   "/cases/{case}/import",                   [403, 303, 303, 403, 403, 403, 403, 403, 403, 303, 403]),
    ("GET",    "/people",                                [403, 403, 403, 403, 403, 200, 403, 403, 403, 200, 403]),
    ("POST",   "/people",                                [403, 403, 403, 403, 403, 200, 403, 403, 403, 200, 403]),
    ("POST",   "/people/export",                         [403, 403, 403, 403, 403, 403, 200, 403, 403, 200, 403]),
    ("POST",   "/people/erase, confirm",                 [403, 403, 403, 403, 403, 403, 200, 403, 403, 200, 403]),
    ("POST",   "/people/erase",                          [403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 403]),
    ("GET",    "/api/cases/{case}/contacts",             [200, 403, 200, 403, 403, 403, 403, 403, 403, 200, 403]),
    ("POST",   "/api/cases/{case}/contacts",             [403, 201, 201, 403, 403, 403, 403, 403, 403, 201, 403]),
    ("GET",    "/api/cases/{case}/contacts/{id}",        [200, 403, 200, 403, 403, 403, 403, 403, 403, 200, 403]),
    ("PATCH",  "/api/cases/{case}/contacts/{id}",        [403, 200, 200, 403, 403, 403, 403, 403, 403, 200, 403]),
    ("DELETE", "/api/cases/{case}/contacts/{id}",        [403, 204, 204, 403, 403, 403, 403, 403, 403, 204, 403]),
    ("GET",    "/api/cases/{case}/audit",                [403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403]),
    ("GET",    "/api/audit",                             [403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403]),
];

/// The table as the README shows it (between its markers).
fn markdown() -> String {
    let mut out = String::from("| route |");
    for column in &COLUMNS {
        out.push_str(&format!(" {} |", column.heading));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(COLUMNS.len()));
    out.push('\n');
    for (method, path, statuses) in &TABLE {
        out.push_str(&format!("| `{method} {path}` |"));
        for status in statuses {
            out.push_str(&format!(" {status} |"));
        }
        out.push('\n');
    }
    out
}

const BEGIN: &str = "<!-- role-route table: tests/http/roles.rs -->\n";
const END: &str = "<!-- end of the role-route table -->";

#[test]
fn the_readme_shows_the_tested_table() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find(BEGIN).expect("the README marks the role-route table") + BEGIN.len();
    let end = start + readme[start..].find(END).expect("the table's end marker");
    assert_eq!(
        readme[start..end],
        markdown(),
        "the README's table differs from the tested one:\n{}",
        markdown()
    );
}

/// A token of `column` for user `user`, restricted to `other` if the column says so.
fn token(column: &Column, user: &str, other: &str) -> String {
    let mut claims = claims(json!(user));
    if let Some(roles) = column.roles {
        claims["roles"] = json!(roles);
    }
    if column.other_case {
        claims["cases"] = json!([other]);
    }
    sign(&claims, PRIVATE_KEY)
}

/// The contact every cell starts from.
fn contact() -> Value {
    json!({ "first_name": "Ada", "phone": "030 1234567" })
}

/// Sends the request of one row, as the pages (forms with their CSRF token) or the API do;
/// `contact` is the contact of the row's case, as `case/id`.
async fn request(app: &TestApp, method: &str, path: &str, contact: &str) -> TestResponse {
    let form = [("first_name", "Grace"), ("phone", "030 7654321"), ("version", "1")];
    let search = [("kind", "phone"), ("q", "030 1234567")];
    match (method, path.starts_with("/api/")) {
        ("POST", false) if path.ends_with("/import") => {
            let boundary = "renraku-roles-boundary";
            let token = app.csrf().await;
            let body = format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n\
                 --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.csv\"\r\n\
                 Content-Type: text/csv\r\n\r\nfirst_name,phone\nGrace,030 7654321\n\r\n--{boundary}--\r\n"
            );
            let content_type = format!("multipart/form-data; boundary={boundary}");
            let builder = Request::post(path).header(header::CONTENT_TYPE, content_type);
            app.send(builder, Body::from(body)).await
        }
        ("POST", false) if path == "/people" || path == "/people/export" => {
            app.post_form(path, &search).await
        }
        // The first step shows what would be erased, the second (`confirm`) erases.
        ("POST", false) if path == "/people/erase" => app.post_form(path, &[("contact", contact)]).await,
        ("POST", false) if path == "/people/erase, confirm" => {
            app.post_form("/people/erase", &[("contact", contact), ("confirm", "yes")]).await
        }
        ("GET", _) => {
            if path.starts_with("/api/") {
                app.api(Method::GET, path, None).await
            } else {
                app.get(path).await
            }
        }
        ("POST", false) if path.ends_with("/erase") => app.post_form(path, &[]).await,
        ("POST", false) if path.ends_with("/delete") => app.post_form(path, &[("version", "1")]).await,
        ("POST", false) => app.post_form(path, &form).await,
        ("POST", true) => app.api(Method::POST, path, Some(json!({ "first_name": "Grace" }))).await,
        ("PATCH", true) => app.api(Method::PATCH, path, Some(json!({ "first_name": "Grace" }))).await,
        ("DELETE", true) => app.api(Method::DELETE, path, None).await,
        other => panic!("no request for {other:?}"),
    }
}

async fn every_role_on_every_route() {
    let verifier = JwtVerifier::from_rsa_pem(PUBLIC_KEY, ISSUER).unwrap();
    let state = AppState::new(store_under_test().await, Auth::Jwt(verifier));
    let admin = TestApp::new(state.clone()).with_bearer(sign(&claims(json!("admin")), PRIVATE_KEY));
    let mut cells = 0;
    for (row, (method, template, statuses)) in TABLE.iter().enumerate() {
        for (index, (column, expected)) in COLUMNS.iter().zip(statuses).enumerate() {
            let case = admin.new_case();
            let created = admin.create(&case, contact()).await;
            let id = created["id"].as_str().unwrap();
            let user = format!("user-{row}-{index}");
            let app = TestApp::new(state.clone()).with_bearer(token(column, &user, &admin.new_case()));
            let path = template.replace("{case}", &case).replace("{id}", id);
            let response = request(&app, method, &path, &format!("{case}/{id}")).await;
            let cell = format!("{method} {template} as {}", column.heading);
            assert_eq!(response.status.as_u16(), *expected, "{cell}: {}", response.body);
            if *expected == StatusCode::FORBIDDEN.as_u16() {
                if path.starts_with("/api/") {
                    response.assert_problem(403);
                } else {
                    assert!(response.assert_page(403).contains("You may not"), "{cell}: {}", response.body);
                }
                // A denial stores nothing: the contact is as created, alone in its case.
                let stored = admin.api(Method::GET, &format!("/api/cases/{case}/contacts/{id}"), None).await;
                assert_eq!(stored.assert_status(200).json(), created, "{cell} changed the contact");
                let listed = admin.api(Method::GET, &format!("/api/cases/{case}/contacts"), None).await;
                assert_eq!(listed.json()["items"].as_array().unwrap().len(), 1, "{cell} added a contact");
            }
            cells += 1;
        }
    }
    assert_eq!(cells, TABLE.len() * COLUMNS.len());
}

/// A token for `user` with `roles` (and, if given, restricted to `cases`).
fn token_with(user: &str, roles: &[&str], cases: Option<&[&str]>) -> String {
    let mut claims = claims(json!(user));
    claims["roles"] = json!(roles);
    if let Some(cases) = cases {
        claims["cases"] = json!(cases);
    }
    sign(&claims, PRIVATE_KEY)
}

fn app_as(state: &AppState, token: String) -> TestApp {
    TestApp::new(state.clone()).with_bearer(token)
}

async fn pages_offer_only_what_the_roles_allow() {
    let verifier = JwtVerifier::from_rsa_pem(PUBLIC_KEY, ISSUER).unwrap();
    let state = AppState::new(store_under_test().await, Auth::Jwt(verifier));
    let everyone = app_as(&state, sign(&claims(json!("clerk-1")), PRIVATE_KEY));
    let case = everyone.new_case();
    let id = everyone.create(&case, contact()).await["id"].as_str().unwrap().to_owned();
    let contact_path = format!("/cases/{case}/contacts/{id}");
    let links = [
        (format!("/cases/{case}/contacts/new"), "Add contact"),
        (format!("/cases/{case}/audit"), "Audit trail"),
        (format!("/cases/{case}/erase"), "Erase"),
    ];
    let buttons = [(format!("{contact_path}/edit"), "Edit"), (format!("{contact_path}/delete"), "Delete")];

    // The default roles: every link and button.
    let page = everyone.get(&format!("/cases/{case}")).await;
    for (href, what) in &links {
        assert!(page.assert_page(200).contains(&format!("href=\"{href}\"")), "{what} offered");
    }
    let page = everyone.get(&contact_path).await;
    for (href, what) in &buttons {
        assert!(page.assert_page(200).contains(&format!("href=\"{href}\"")), "{what} offered");
    }

    // A reader: the case and the contact, without a link or button to anything else.
    let reader = app_as(&state, token_with("reader-1", &["reader"], None));
    let page = reader.get(&format!("/cases/{case}")).await;
    for (href, what) in &links {
        assert!(!page.assert_page(200).contains(href.as_str()), "{what} not offered to a reader");
    }
    let page = reader.get(&contact_path).await;
    assert!(page.assert_page(200).contains("Ada"));
    for (href, what) in &buttons {
        assert!(!page.body.contains(href.as_str()), "{what} not offered to a reader");
    }

    // A reader and auditor: the audit trail, nothing more.
    let auditor = app_as(&state, token_with("auditor-1", &["reader", "auditor"], None));
    let page = auditor.get(&format!("/cases/{case}")).await;
    assert!(page.assert_page(200).contains(&format!("href=\"/cases/{case}/audit\"")));
    assert!(!page.body.contains("/contacts/new") && !page.body.contains("/erase"));

    // The session page shows the roles and the cases.
    let page = reader.get("/session").await;
    let body = page.assert_page(200);
    assert!(body.contains("Your roles: <strong class=\"role\">reader</strong>."), "{body}");
    assert!(body.contains("Your cases: every case."), "{body}");
    let restricted = app_as(&state, token_with("clerk-2", &["reader", "editor"], Some(&["42", "43"])));
    let body = restricted.get("/session").await.body;
    assert!(
        body.contains("<strong class=\"role\">reader</strong>, <strong class=\"role\">editor</strong>"),
        "{body}"
    );
    assert!(body.contains("<a href=\"/cases/42\">#42</a>, <a href=\"/cases/43\">#43</a>"), "{body}");
    // A token restricted to cases works in them, and only in them.
    let inside = app_as(&state, token_with("clerk-4", &["reader"], Some(&[case.as_str()])));
    inside.get(&format!("/cases/{case}")).await.assert_status(200);
    inside.api(Method::GET, &format!("/api/cases/{case}/contacts/{id}"), None).await.assert_status(200);
    let other = everyone.new_case();
    everyone.create(&other, contact()).await;
    inside.get(&format!("/cases/{other}")).await.assert_status(403);
    inside.api(Method::GET, &format!("/api/cases/{other}/contacts"), None).await.assert_problem(403);
    let nothing = app_as(&state, token_with("clerk-3", &[], None));
    assert!(nothing.get("/session").await.body.contains("Your roles: none."));
}

async fn read_audit_shows_views_and_lists_with_who_and_when() {
    let verifier = JwtVerifier::from_rsa_pem(PUBLIC_KEY, ISSUER).unwrap();
    let state = AppState::new(store_with_read_audit().await, Auth::Jwt(verifier));
    let admin = app_as(&state, sign(&claims(json!("clerk-1")), PRIVATE_KEY));
    let case = admin.new_case();
    let id = admin.create(&case, contact()).await["id"].as_str().unwrap().to_owned();
    let reader = app_as(&state, token_with("reader-9", &["reader"], None));
    reader.get(&format!("/cases/{case}/contacts/{id}")).await.assert_status(200);
    reader.get(&format!("/cases/{case}")).await.assert_status(200);
    reader.api(Method::GET, &format!("/api/cases/{case}/contacts/{id}"), None).await.assert_status(200);

    let auditor = app_as(&state, token_with("auditor-1", &["auditor"], None));
    let page = auditor.get(&format!("/cases/{case}/audit")).await;
    let body = page.assert_page(200);
    let rows: Vec<&str> = body.split("<tr>").skip(2).collect();
    let actions: Vec<&str> =
        rows.iter().map(|row| row.split("<td>").nth(3).unwrap().split('<').next().unwrap()).collect();
    assert_eq!(actions, ["viewed", "listed", "viewed", "created"], "newest first:\n{body}");
    for row in &rows[..3] {
        assert!(row.contains("<td>reader-9</td>") && row.contains("<time datetime=\""), "{row}");
    }
    assert!(!body.contains("Ada") && !body.contains("1234567"), "no values on the audit page");
    let trail = auditor.api(Method::GET, &format!("/api/cases/{case}/audit"), None).await;
    let actions: Vec<Value> =
        trail.json()["items"].as_array().unwrap().iter().map(|e| e["action"].clone()).collect();
    assert_eq!(actions, ["created", "viewed", "listed", "viewed"]);

    // Off (the default): reads leave no trace.
    let verifier = JwtVerifier::from_rsa_pem(PUBLIC_KEY, ISSUER).unwrap();
    let plain = AppState::new(store_under_test().await, Auth::Jwt(verifier));
    let admin = app_as(&plain, sign(&claims(json!("clerk-1")), PRIVATE_KEY));
    let id = admin.create(&case, contact()).await["id"].as_str().unwrap().to_owned();
    admin.get(&format!("/cases/{case}/contacts/{id}")).await.assert_status(200);
    let trail = admin.api(Method::GET, &format!("/api/cases/{case}/audit"), None).await;
    assert_eq!(trail.json()["items"].as_array().unwrap().len(), 1, "only the creation");
}

async fn searches_show_on_the_audit_page_across_cases() {
    let verifier = JwtVerifier::from_rsa_pem(PUBLIC_KEY, ISSUER).unwrap();
    let state = AppState::new(store_with_read_audit().await, Auth::Jwt(verifier));
    let admin = app_as(&state, sign(&claims(json!("clerk-1")), PRIVATE_KEY));
    let case = admin.new_case();
    admin.create(&case, contact()).await;
    // A search on the person page.
    let searcher = app_as(&state, token_with("searcher-1", &["searcher"], None));
    let found = searcher.post_form("/people", &[("kind", "phone"), ("q", "030 1234567")]).await;
    assert!(found.assert_page(200).contains("Ada"), "the search found the contact");

    let auditor = app_as(&state, token_with("auditor-1", &["auditor"], None));
    let home = auditor.get("/").await;
    assert!(home.assert_page(200).contains("href=\"/audit\""), "the home page links to it");
    let page = auditor.get("/audit").await;
    let body = page.assert_page(200);
    assert!(body.contains("<h1>Audit trail across cases</h1>"), "{body}");
    let row = body.split("<tr>").nth(2).unwrap_or_else(|| panic!("no event in {body}"));
    for cell in ["<td>searcher-1</td>", "<td>searched</td>", "<td>Phone</td>", "<time datetime=\""] {
        assert!(row.contains(cell), "{cell} in {row}");
    }
    assert!(!body.contains("1234567") && !body.contains("+4930"), "never the searched value");
    let trail = auditor.api(Method::GET, "/api/audit", None).await;
    assert_eq!(trail.assert_status(200).json()["items"][0]["action"], "searched");

    // `*` is no case of the case routes: it would mix with what was done across cases.
    admin.get("/cases/*/audit").await.assert_status(400);
    admin.api(Method::POST, "/api/cases/*/contacts", Some(contact())).await.assert_problem(400);
    // A token restricted to cases sees nothing across them.
    let restricted = app_as(&state, token_with("auditor-2", &["auditor"], Some(&[case.as_str()])));
    restricted.get("/audit").await.assert_status(403);
    assert!(!restricted.get("/").await.body.contains("href=\"/audit\""));
}

crate::on_every_store!(
    every_role_on_every_route,
    searches_show_on_the_audit_page_across_cases,
    pages_offer_only_what_the_roles_allow,
    read_audit_shows_views_and_lists_with_who_and_when,
);
