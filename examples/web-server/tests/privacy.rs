//! The binary's privacy over time: the retention task that its configuration starts (and
//! stops with the server), and logs that carry counts, never the values of a CSV import.

#[path = "common/mod.rs"]
mod common;

#[path = "common/binary.rs"]
mod binary;

use axum::http::{Method, StatusCode, header};

use binary::{Http, Process, cookie_pair};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// Waits for a line with `needle`, unless one came already.
fn saw(server: &mut Process, needle: &str) {
    server.drain();
    if !server.output().contains(needle) {
        server.wait_for(needle);
    }
}

/// Personal values of the tests, which must never reach the logs.
const SECRETS: [&str; 4] = ["Quixote", "1234567", "zoe@example.org", "not-an-email"];

#[test]
fn with_a_retention_period_the_binary_purges_logs_counts_only_and_stops_cleanly() {
    let mut server = Process::start(&[
        ("DISABLE_AUTH", "true"),
        ("RENRAKU_LISTEN", "127.0.0.1:0"),
        ("RENRAKU_RETENTION", "2s"),
        ("RENRAKU_RETENTION_INTERVAL", "200ms"),
    ]);
    let base = server.base_url();
    saw(&mut server, "retention: purging contacts");
    let location = runtime().block_on(async {
        let http = Http::new();
        let body = r#"{"first_name": "Zoë", "last_name": "Quixote", "phone": "030 1234567", "email": "zoe@example.org"}"#;
        let url = format!("{base}/api/cases/retention-1/contacts");
        let created = http.send(Method::POST, &url, &[("content-type", "application/json")], body).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        created.headers[header::LOCATION].to_str().unwrap().to_owned()
    });
    // Runs before the contact is due purge nothing; then it is purged.
    saw(&mut server, "purged=0");
    saw(&mut server, "purged=1");
    runtime().block_on(async {
        let gone = Http::new().get(&format!("{base}{location}"), &[]).await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND, "{}", gone.body);
        let audit = Http::new().get(&format!("{base}/api/cases/retention-1/audit"), &[]).await;
        assert!(
            audit.body.contains(r#""action":"purged""#) && audit.body.contains("renraku-retention"),
            "{}",
            audit.body
        );
    });
    server.signal("TERM");
    assert!(server.wait().success(), "{}", server.output());
    let output = server.output();
    assert!(output.contains("retention: stopped"), "the task stops with the server:\n{output}");
    for secret in SECRETS {
        assert!(!output.contains(secret), "{secret} in the logs:\n{output}");
    }
}

#[test]
fn without_a_retention_period_nothing_is_purged() {
    let mut server = Process::start(&[("DISABLE_AUTH", "true"), ("RENRAKU_LISTEN", "127.0.0.1:0")]);
    server.base_url();
    server.signal("TERM");
    assert!(server.wait().success(), "{}", server.output());
    assert!(!server.output().contains("retention"), "{}", server.output());
}

/// A multipart body of the import form.
fn multipart(token: &str, file: &str) -> (String, String) {
    let boundary = "renraku-process-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{file}\r\n--{boundary}--\r\n"
    );
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[test]
fn a_csv_import_over_tcp_logs_counts_never_values() {
    let mut server = Process::start(&[("DISABLE_AUTH", "true"), ("RENRAKU_LISTEN", "127.0.0.1:0")]);
    let base = server.base_url();
    runtime().block_on(async {
        let http = Http::new();
        let form = http.get(&format!("{base}/cases/csv-1/import"), &[]).await;
        assert_eq!(form.status, StatusCode::OK);
        let cookie = cookie_pair(&form, "renraku_csrf");
        let token = common::form_token(&form.body);
        let url = format!("{base}/cases/csv-1/import");
        let bad = "first_name,last_name,email\nZoë,Quixote,not-an-email\n";
        let (content_type, body) = multipart(&token, bad);
        let headers = [("content-type", content_type.as_str()), ("cookie", cookie.as_str())];
        let refused = http.send(Method::POST, &url, &headers, &body).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
        assert!(refused.body.contains("<td>2</td><td>Email</td>"), "{}", refused.body);
        let good = "first_name,last_name,phone_no,email\nZoë,Quixote,030 1234567,zoe@example.org\n";
        let (content_type, body) = multipart(&token, good);
        let headers = [("content-type", content_type.as_str()), ("cookie", cookie.as_str())];
        let imported = http.send(Method::POST, &url, &headers, &body).await;
        assert_eq!(imported.status, StatusCode::SEE_OTHER, "{}", imported.body);
        let csv = http.get(&format!("{base}/cases/csv-1/contacts.csv"), &[]).await;
        assert!(csv.body.contains("Quixote"), "{}", csv.body);
    });
    saw(&mut server, "imported=1");
    server.signal("TERM");
    assert!(server.wait().success(), "{}", server.output());
    let output = server.output();
    assert!(output.contains("problems=1"), "{output}");
    for secret in SECRETS {
        assert!(!output.contains(secret), "{secret} in the logs:\n{output}");
    }
}
