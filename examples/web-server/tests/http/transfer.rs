//! CSV in and out of a case: the streamed export, its neutralized cells, the import with
//! its header mapping, limits and row-by-row problems, and the round trip.

use axum::body::Body;
use axum::http::{Method, Request, header};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use renraku_core::ContactField;

use crate::common::{TestApp, TestResponse, app_under_test, full_contact, token};

/// The fields of a contact, in the export's column order: the field table's.
fn fields() -> [&'static str; ContactField::COUNT] {
    ContactField::ALL.map(ContactField::name)
}

/// The rows of a CSV text (after its header row, which is checked).
fn csv_rows(csv_text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), fields(), "{csv_text}");
    reader.records().map(|r| r.unwrap().iter().map(ToOwned::to_owned).collect()).collect()
}

async fn export(app: &TestApp, case: &str) -> TestResponse {
    let response = app.get(&format!("/cases/{case}/contacts.csv")).await;
    response.assert_status(200);
    assert_eq!(response.header("content-type"), Some("text/csv; charset=utf-8"));
    let disposition = response.header("content-disposition").unwrap();
    assert_eq!(disposition, format!("attachment; filename=\"case-{case}-contacts.csv\""));
    response
}

/// A multipart body of the import form: the token (if any) and the file.
fn multipart(token: Option<&str>, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----renraku-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    if let Some(token) = token {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"contacts.csv\"\r\n\
             Content-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Imports `file` into `case`: a redirect to the case, which shows the flash once.
async fn imported(app: &TestApp, case: &str, file: &[u8]) {
    let response = import(app, case, file).await;
    assert_eq!(response.status, 303, "{}", response.body);
    assert_eq!(response.location(), format!("/cases/{case}"));
    let page = app.get(response.location()).await;
    assert!(page.assert_page(200).contains("Contacts imported successfully."), "{}", page.body);
}

/// Posts `file` to the import form of `case`, with the CSRF token as a browser would.
async fn import(app: &TestApp, case: &str, file: &[u8]) -> TestResponse {
    let token = app.csrf().await;
    import_with(app, case, Some(&token), file, &[]).await
}

async fn import_with(
    app: &TestApp,
    case: &str,
    token: Option<&str>,
    file: &[u8],
    headers: &[(&str, &str)],
) -> TestResponse {
    let (content_type, body) = multipart(token, file);
    let mut builder =
        Request::post(format!("/cases/{case}/import")).header(header::CONTENT_TYPE, content_type);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    app.send(builder, Body::from(body)).await
}

/// The contacts of a case through the API, oldest first.
async fn contacts(app: &TestApp, case: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut path = format!("/api/cases/{case}/contacts?limit=500");
    loop {
        let page = app.api(Method::GET, &path, None).await;
        page.assert_status(200);
        let page = page.json();
        all.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next"].as_str() {
            Some(next) => path = format!("/api/cases/{case}/contacts?limit=500&after={next}"),
            None => return all,
        }
    }
}

/// A name for the number `i`: letters only (`Ba`, `Bb`, …).
fn name_of(mut i: usize) -> String {
    let mut name = String::from("B");
    loop {
        name.push(char::from(b'a' + (i % 26) as u8));
        i /= 26;
        if i == 0 {
            return name;
        }
    }
}

/// A CSV file of `count` valid contacts under a header naming first name, phone and email.
fn generated(header: &str, count: usize) -> String {
    let mut file = format!("{header}\n");
    for i in 0..count {
        file.push_str(&format!("{},030 {:07},p{i}@example.org\n", name_of(i), 1_000_000 + i));
    }
    file
}

async fn the_export_is_csv_with_a_header_row_and_every_field() {
    let app = app_under_test().await;
    let case = app.new_case();
    app.create(&case, full_contact()).await;
    app.create(&case, json!({"first_name": "Émile", "address": "Line 1\nLine 2, \"quoted\""})).await;
    let response = export(&app, &case).await;
    assert!(response.body.starts_with(&fields().join(",")));
    let rows = csv_rows(&response.body);
    assert_eq!(rows.len(), 2);
    let stored = contacts(&app, &case).await;
    for (row, contact) in rows.iter().zip(&stored) {
        for (cell, field) in row.iter().zip(fields()) {
            let value = contact[field].as_str().unwrap_or("");
            let expected =
                if value.starts_with(['=', '+', '-', '@']) { format!("'{value}") } else { value.to_owned() };
            assert_eq!(cell, &expected, "{field}");
        }
    }
    assert_eq!(rows[1][ContactField::Address.index()], "Line 1\nLine 2, \"quoted\"");
    // A case without contacts: the header row alone.
    let empty = export(&app, &app.new_case()).await;
    assert!(csv_rows(&empty.body).is_empty());
}

/// A contact whose relationship is `value`, exported: its cell.
async fn exported_relationship(value: &str) -> (String, String) {
    let app = app_under_test().await;
    let case = app.new_case();
    let created = app.create(&case, json!({"first_name": "Ada", "relationship": value})).await;
    let stored = created["relationship"].as_str().unwrap().to_owned();
    let rows = csv_rows(&export(&app, &case).await.body);
    (stored, rows[0][ContactField::Relationship.index()].clone())
}

async fn a_cell_starting_with_equals_is_neutralized() {
    let (stored, cell) = exported_relationship("=HYPERLINK(\"http://evil.example\",\"x\")").await;
    assert_eq!(cell, format!("'{stored}"));
    assert!(stored.starts_with('='));
}

async fn a_cell_starting_with_plus_is_neutralized() {
    let (stored, cell) = exported_relationship("+1+cmd|' /C calc'!A0").await;
    assert!(stored.starts_with('+'));
    assert_eq!(cell, format!("'{stored}"));
}

async fn a_cell_starting_with_minus_is_neutralized() {
    let (stored, cell) = exported_relationship("-2+3+cmd|' /C calc'!A0").await;
    assert!(stored.starts_with('-'));
    assert_eq!(cell, format!("'{stored}"));
}

async fn a_cell_starting_with_at_is_neutralized() {
    let (stored, cell) = exported_relationship("@SUM(1+9)*cmd|' /C calc'!A0").await;
    assert!(stored.starts_with('@'));
    assert_eq!(cell, format!("'{stored}"));
}

/// The core trims values, so a tab or carriage return never leads a stored value; what
/// follows it is neutralized all the same. (The unit tests of `neutralize` cover a cell that
/// starts with either.)
async fn a_cell_starting_with_tab_is_neutralized() {
    let (stored, cell) = exported_relationship("\t=1+2").await;
    assert_eq!(stored, "=1+2");
    assert_eq!(cell, "'=1+2");
}

async fn a_cell_starting_with_carriage_return_is_neutralized() {
    let (stored, cell) = exported_relationship("\r=1+2").await;
    assert_eq!(stored, "=1+2");
    assert_eq!(cell, "'=1+2");
}

/// The export reaches the client page by page (one body frame per page of 500), without a
/// length known in advance, and holds every contact.
async fn the_export_is_streamed_page_by_page() {
    let app = app_under_test().await;
    let case = app.new_case();
    let count = 1_201;
    let file = generated("first_name,phone_no,email", count);
    imported(&app, &case, file.as_bytes()).await;

    let request = Request::get(format!("/cases/{case}/contacts.csv"))
        .header(header::HOST, "localhost")
        .header(header::AUTHORIZATION, format!("Bearer {}", token()))
        .body(Body::empty())
        .unwrap();
    let response = renraku_web::app(app.state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().get(header::CONTENT_LENGTH).is_none(), "{:?}", response.headers());
    let mut body = response.into_body();
    let mut frames = 0;
    let mut text = Vec::new();
    while let Some(frame) = body.frame().await {
        let data = frame.unwrap().into_data().unwrap();
        assert!(!data.is_empty());
        frames += 1;
        text.extend_from_slice(&data);
    }
    assert_eq!(frames, 3, "pages of 500: 500, 500, 201");
    let rows = csv_rows(std::str::from_utf8(&text).unwrap());
    assert_eq!(rows.len(), count);
    assert_eq!(rows[1200][1], name_of(1200));
    assert_eq!(rows[0][3], "030 1000000");
}

async fn the_import_maps_headers_by_field_name_label_or_phone_no_ignoring_case() {
    let app = app_under_test().await;
    let form = app.get(&app_path(&app)).await;
    let page = form.assert_page(200);
    assert!(
        page.contains(r#"enctype="multipart/form-data""#) && page.contains(r#"name="csrf_token""#),
        "{page}"
    );

    let case = app.new_case();
    let file = "Title,FIRST NAME,last_name,Phone_No,E-MAIL\n".replace("E-MAIL", "Email")
        + "Dr.,Ada,Lovelace,030 1234567,ada@example.org\n"
        + " , Bob ,,,bob@example.org\n"
        + ",,,,\n";
    imported(&app, &case, file.as_bytes()).await;
    let stored = contacts(&app, &case).await;
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0]["title"], "Dr.");
    assert_eq!(stored[0]["first_name"], "Ada");
    assert_eq!(stored[0]["phone_e164"], "+49301234567");
    assert_eq!(stored[0]["email"], "ada@example.org");
    assert_eq!(stored[1]["first_name"], "Bob");
    assert_eq!(stored[1]["title"], Value::Null);
    // The labels of the form, too.
    let file = "First name,Last name,Phone,Address,Relationship\nZoë,Nguyễn,030 7654321,\"Hauptstraße 1\n10115 Berlin\",household\n";
    let other = app.new_case();
    imported(&app, &other, file.as_bytes()).await;
    let stored = contacts(&app, &other).await;
    assert_eq!(stored[0]["address"], "Hauptstraße 1\n10115 Berlin");
    assert_eq!(stored[0]["relationship"], "household");
}

fn app_path(app: &TestApp) -> String {
    format!("/cases/{}/import", app.new_case())
}

async fn an_invalid_import_names_every_bad_row_by_line_and_field_and_stores_nothing() {
    let app = app_under_test().await;
    let case = app.new_case();
    let file = "first_name,email,phone_no\n\
                Ada,ada@example.org,030 1234567\n\
                Bob,not-an-email,\n\
                Cy,cy@example.org,030 1234567\n\
                ,,\n\
                Dee,dee@example.org,12\n\
                Eve,eve@example.org\n";
    let response = import(&app, &case, file.as_bytes()).await;
    let page = response.assert_page(422);
    assert!(page.contains("Nothing was imported"), "{page}");
    // The row with too few cells is found first: the values are not checked then.
    assert!(page.contains("<td>7</td><td>Row</td>"), "{page}");
    assert!(contacts(&app, &case).await.is_empty());

    let file = file.replace("Eve,eve@example.org\n", "Eve,eve@example.org,\n");
    let page = import(&app, &case, file.as_bytes()).await;
    let page = page.assert_page(422);
    assert!(page.contains("<td>3</td><td>Email</td>"), "{page}");
    assert!(page.contains("<td>6</td><td>Phone</td>"), "{page}");
    assert!(!page.contains("<td>2</td>") && !page.contains("<td>4</td>"), "valid rows are not named: {page}");
    assert!(!page.contains("not-an-email"), "the values are not echoed: {page}");
    assert!(contacts(&app, &case).await.is_empty(), "all or nothing");

    // Headers that name no field, or one field twice.
    let page = import(&app, &case, b"first_name,notes,First Name\nAda,x,y\n").await;
    let page = page.assert_page(422);
    assert!(
        page.contains("<td>1</td><td>Column 2</td>") && page.contains("<td>1</td><td>Column 3</td>"),
        "{page}"
    );
    // Not UTF-8.
    let page = import(&app, &case, b"first_name\nAda\nZo\xEB\n").await;
    assert!(page.assert_page(422).contains("<td>3</td><td>File</td>"), "{}", page.body);
    assert!(contacts(&app, &case).await.is_empty());
}

async fn the_import_is_csrf_protected_and_size_limited() {
    let app = app_under_test().await;
    let case = app.new_case();
    let file = b"first_name\nAda\n";
    // No token, a wrong token, a form from another site: 403, nothing read or stored.
    import_with(&app, &case, None, file, &[]).await.assert_page(403);
    import_with(&app, &case, Some("0000"), file, &[]).await.assert_page(403);
    let token = app.csrf().await;
    import_with(&app, &case, Some(&token), file, &[("sec-fetch-site", "cross-site")]).await.assert_page(403);
    assert!(contacts(&app, &case).await.is_empty());
    // Not a multipart form.
    let form = app.post_form(&format!("/cases/{case}/import"), &[("file", "first_name\nAda\n")]).await;
    form.assert_page(400);
    // Over the limit: 413 (the declared length is refused at once).
    let big = generated("first_name,phone_no,email", 150_000);
    assert!(big.len() > 4 * 1024 * 1024);
    import(&app, &case, big.as_bytes()).await.assert_page(413);
    assert!(contacts(&app, &case).await.is_empty());
    // Under the size limit but over the row limit.
    let many = generated("first_name,phone_no,email", 10_001);
    let page = import(&app, &case, many.as_bytes()).await;
    assert!(page.assert_page(422).contains("more than 10000 contacts"), "{}", page.body);
    assert!(contacts(&app, &case).await.is_empty());
}

async fn export_then_import_into_another_case_gives_the_same_contacts() {
    let app = app_under_test().await;
    let from = app.new_case();
    let inputs = [
        full_contact(),
        json!({"first_name": "-Zoë", "last_name": "'Quoted", "phone": "+49 30 1234567", "relationship": "-1"}),
        json!({"title": "@home", "email": "x@example.org", "address": "Rue 1\r\nÉtage 2, \"B\"", "relationship": "''x"}),
        json!({"last_name": "O'Brien-Smith Jr.", "phone": "(030) 765-4321"}),
    ];
    for input in &inputs {
        app.create(&from, input.clone()).await;
    }
    let csv_text = export(&app, &from).await.body;
    let to = app.new_case();
    imported(&app, &to, csv_text.as_bytes()).await;
    let before = contacts(&app, &from).await;
    let after = contacts(&app, &to).await;
    assert_eq!(before.len(), after.len());
    for (a, b) in before.iter().zip(&after) {
        for field in fields().iter().chain(&["phone_e164"]) {
            assert_eq!(a[field], b[field], "{field}");
        }
        assert_ne!(a["id"], b["id"]);
        assert_eq!(b["case_id"], to.as_str());
    }
    // And the second export is the first, byte for byte.
    assert_eq!(export(&app, &to).await.body, csv_text);
}

crate::on_every_store!(
    the_export_is_csv_with_a_header_row_and_every_field,
    a_cell_starting_with_equals_is_neutralized,
    a_cell_starting_with_plus_is_neutralized,
    a_cell_starting_with_minus_is_neutralized,
    a_cell_starting_with_at_is_neutralized,
    a_cell_starting_with_tab_is_neutralized,
    a_cell_starting_with_carriage_return_is_neutralized,
    the_export_is_streamed_page_by_page,
    the_import_maps_headers_by_field_name_label_or_phone_no_ignoring_case,
    an_invalid_import_names_every_bad_row_by_line_and_field_and_stores_nothing,
    the_import_is_csrf_protected_and_size_limited,
    export_then_import_into_another_case_gives_the_same_contacts,
);
