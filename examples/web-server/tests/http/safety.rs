//! CSRF, headers, body limit, escaping.
//!
//! Every response of every test also passes `common::check_every_response`: the security
//! headers are there and no response contains `<script`.

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::json;

use renraku_web::{AppState, Auth, JwtVerifier};

use crate::common::{
    ISSUER, PRIVATE_KEY, PUBLIC_KEY, TestApp, app_under_test, claims, full_contact, sign, store_under_test,
    token,
};

async fn every_kind_of_response_carries_the_security_headers() {
    let app = app_under_test().await;
    let case = app.new_case();
    let responses = [
        app.get("/").await,
        app.get("/style.css").await,
        app.get("/nowhere").await,
        app.get(&format!("/cases/{case}")).await,
        app.api(Method::GET, "/api/heartbeat", None).await,
        app.api(Method::POST, &format!("/api/cases/{case}/contacts"), Some(full_contact())).await,
        app.api(Method::GET, "/api/nothing", None).await,
        app.post_form_raw(&format!("/cases/{case}/contacts"), &[]).await,
    ];
    let statuses: Vec<u16> = responses.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(statuses, [200, 200, 404, 404, 204, 201, 404, 403]);
    for response in &responses {
        let csp = response.header("content-security-policy").unwrap();
        assert_eq!(
            csp,
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        );
        assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(response.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(response.header("x-frame-options"), Some("DENY"));
    }
    assert_eq!(responses[0].header("cache-control"), Some("no-store"), "pages are never cached");
}

async fn every_form_post_needs_the_csrf_token_of_its_cookie() {
    let app = app_under_test().await;
    let case = app.new_case();
    let contact = app.create(&case, full_contact()).await;
    let href = format!("/cases/{case}/contacts/{}", contact["id"].as_str().unwrap());
    let posts = [
        (format!("/cases/{case}/contacts"), vec![("first_name", "Ada")]),
        (href.clone(), vec![("version", "1"), ("first_name", "Ada")]),
        (format!("{href}/delete"), vec![("version", "1")]),
        (format!("/cases/{case}/erase"), vec![]),
        ("/session".to_owned(), vec![("token", "x")]),
        ("/session/delete".to_owned(), vec![]),
    ];
    let cookie_token = app.csrf().await;
    for (path, fields) in &posts {
        // No token in the form.
        let page = app.post_form_raw(path, fields).await;
        assert!(page.assert_page(403).contains("security token"), "{path}");
        // A wrong token.
        let mut wrong = vec![("csrf_token", "0".repeat(64))];
        wrong.extend(fields.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let wrong: Vec<(&str, &str)> = wrong.iter().map(|(k, v)| (*k, v.as_str())).collect();
        app.post_form_raw(path, &wrong).await.assert_page(403);
        // The right token, but no cookie to match it.
        let mut body = vec![("csrf_token", cookie_token.as_str())];
        body.extend_from_slice(fields);
        let request = Request::post(path.as_str())
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", format!("Bearer {}", token()))
            .body(Body::from(serde_urlencoded::to_string(&body).unwrap()))
            .unwrap();
        app.raw(request).await.assert_page(403);
    }
    // Nothing happened.
    assert_eq!(app.api(Method::GET, &format!("/api{href}"), None).await.json()["version"], 1);

    // A token in a JSON body does not count either: forms only.
    let request = Request::post(format!("/cases/{case}/contacts"))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {}", token()))
        .header("cookie", format!("renraku_csrf={cookie_token}"))
        .body(Body::from(json!({ "csrf_token": cookie_token, "first_name": "Ada" }).to_string()))
        .unwrap();
    app.raw(request).await.assert_page(403);

    // With it, the same posts work.
    let created = app.post_form(&format!("/cases/{case}/contacts"), &[("first_name", "Ada")]).await;
    created.assert_status(303);
}

/// The old scheme accepted any form token equal to the cookie, so a cookie planted by a
/// subdomain (or over plain HTTP) let another site post. Now the token is an HMAC under the
/// server's key, bound to the cookie and the session.
async fn a_planted_csrf_cookie_or_another_sessions_token_does_not_pass() {
    let app = app_under_test().await.without_bearer();
    let case = app.new_case();
    let planted = "a".repeat(64);
    app.set_cookie("renraku_csrf", &planted);
    app.set_cookie("renraku_session", &token());
    let path = format!("/cases/{case}/contacts");
    app.post_form_raw(&path, &[("csrf_token", &planted), ("first_name", "Ada")]).await.assert_page(403);

    // A token made for one session does not pass with another session's cookie.
    let mine = app.csrf().await;
    app.post_form_raw(&path, &[("csrf_token", &mine), ("first_name", "Ada")]).await.assert_status(303);
    app.set_cookie("renraku_session", &sign(&claims(serde_json::json!("someone-else")), PRIVATE_KEY));
    app.post_form_raw(&path, &[("csrf_token", &mine), ("first_name", "Ada")]).await.assert_page(403);

    // Nor one of another server (another key), with the same cookies.
    let verifier = JwtVerifier::from_rsa_pem(PUBLIC_KEY, ISSUER).unwrap();
    let other = TestApp::new(AppState::new(store_under_test().await, Auth::Jwt(verifier)));
    other.set_cookie("renraku_csrf", &app.cookie("renraku_csrf").unwrap());
    other.set_cookie("renraku_session", &app.cookie("renraku_session").unwrap());
    let theirs = app.csrf().await;
    other.post_form_raw(&path, &[("csrf_token", &theirs), ("first_name", "Ada")]).await.assert_page(403);
    other.post_form(&path, &[("first_name", "Ada")]).await.assert_status(303);
}

/// A form post the browser says comes from another site is refused, even with the right
/// token.
async fn form_posts_from_another_site_are_refused() {
    let app = app_under_test().await;
    let case = app.new_case();
    let path = format!("/cases/{case}/contacts");
    let post = |headers: &[(&'static str, &'static str)], form_token: &str| {
        let body = serde_urlencoded::to_string([("csrf_token", form_token), ("first_name", "Ada")]).unwrap();
        let mut request = Request::post(path.as_str())
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", format!("Bearer {}", token()))
            .header("cookie", format!("renraku_csrf={}", app.cookie("renraku_csrf").unwrap_or_default()));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(Body::from(body)).unwrap()
    };
    let form_token = app.csrf().await;
    for headers in [
        &[("sec-fetch-site", "cross-site")][..],
        &[("sec-fetch-site", "same-site")][..],
        &[("origin", "https://evil.example")][..],
        &[("origin", "null"), ("sec-fetch-site", "cross-site")][..],
    ] {
        app.raw(post(headers, &form_token)).await.assert_page(403);
    }
    let same = [("sec-fetch-site", "same-origin"), ("origin", "http://localhost")];
    app.raw(post(&same, &form_token)).await.assert_status(303);
    // Our pages send no referrer, so a browser says `Origin: null` for their forms.
    let own = [("sec-fetch-site", "same-origin"), ("origin", "null")];
    app.raw(post(&own, &form_token)).await.assert_status(303);
}

/// Behind TLS the cookies carry the `__Host-` prefix (Secure, path /, no domain), and the
/// forms work with them.
async fn secure_cookies_carry_the_host_prefix() {
    let verifier = JwtVerifier::from_rsa_pem(PUBLIC_KEY, ISSUER).unwrap();
    let state = AppState::new(store_under_test().await, Auth::Jwt(verifier)).with_secure_cookies(true);
    let app = TestApp::new(state);
    let home = app.get("/").await;
    let csrf = home.set_cookie("__Host-renraku_csrf").expect("a __Host- CSRF cookie");
    assert!(csrf.contains("Secure") && csrf.contains("Path=/") && !csrf.contains("Domain"), "{csrf}");
    assert!(home.set_cookie("renraku_csrf").is_none());
    let signed_in = app.post_form("/session", &[("token", &token())]).await;
    signed_in.assert_status(303);
    let session = signed_in.set_cookie("__Host-renraku_session").expect("a __Host- session cookie");
    assert!(session.contains("Secure") && session.contains("HttpOnly"), "{session}");
    let case = app.new_case();
    app.post_form(&format!("/cases/{case}/contacts"), &[("first_name", "Ada")]).await.assert_status(303);
    let page = app.get(&format!("/cases/{case}")).await;
    assert!(
        page.assert_page(200).contains(&format!("Signed in as <strong>{}</strong>", crate::common::USER))
    );
}

/// A declared length over the limit is refused before anything of the body is read: the
/// body here never ends, and the answer comes at once.
async fn a_declared_length_over_the_limit_answers_413_at_once() {
    let app = app_under_test().await;
    let case = app.new_case();
    // Each body's sender stays alive (unused) until the end: the body never ends.
    let mut senders = Vec::new();
    let mut endless = || {
        let (sender, body) =
            http_body_util::channel::Channel::<axum::body::Bytes, std::convert::Infallible>::new(1);
        senders.push(sender);
        Body::new(body)
    };
    for (path, content_type) in [
        (format!("/api/cases/{case}/contacts"), "application/json"),
        (format!("/cases/{case}/contacts"), "application/x-www-form-urlencoded"),
    ] {
        let request = Request::post(path.as_str())
            .header("content-type", content_type)
            .header("content-length", "999999999")
            .header("authorization", format!("Bearer {}", token()))
            .body(endless())
            .unwrap();
        let response = tokio::time::timeout(std::time::Duration::from_secs(2), app.raw(request))
            .await
            .unwrap_or_else(|_| panic!("{path}: no answer"));
        response.assert_status(413);
        assert_eq!(response.header("connection"), Some("close"));
    }
}

async fn bodies_over_64_kib_answer_413() {
    let app = app_under_test().await;
    let case = app.new_case();
    let big = "a".repeat(70 * 1024);
    let page =
        app.post_form(&format!("/cases/{case}/contacts"), &[("address", &big), ("first_name", "Ada")]).await;
    assert!(page.assert_page(413).contains("64 KiB"));
    let api =
        app.api(Method::POST, &format!("/api/cases/{case}/contacts"), Some(json!({ "address": big }))).await;
    api.assert_problem(413);
    // Just under the limit is read (and then judged by the rules: too long an address).
    let path = format!("/api/cases/{case}/contacts");
    let fits = app.api(Method::POST, &path, Some(json!({ "address": "a".repeat(60_000) }))).await;
    assert_eq!(fits.assert_problem(422)["errors"][0]["code"], "too_long");
}

async fn every_value_is_html_escaped() {
    let app = app_under_test().await;
    let case = app.new_case();
    let evil = r#"<script>alert("x")</script><img src=x onerror=alert(1)>"#;
    let contact = json!({ "last_name": "O'Brien", "title": "<script>x</script>", "address": evil, "relationship": evil });
    let created = app.create(&case, contact).await;
    // The API escapes markup characters in JSON strings; a JSON parser reads them back.
    assert_eq!(created["address"], evil);
    let raw = app.api(Method::GET, &format!("/api/cases/{case}/contacts"), None).await;
    assert!(raw.body.contains(r"\u003cscript\u003e") && !raw.body.contains('<'), "{}", raw.body);
    let href = format!("/cases/{case}/contacts/{}", created["id"].as_str().unwrap());
    for path in [format!("/cases/{case}"), href.clone(), format!("{href}/edit"), format!("{href}/delete")] {
        let response = app.get(&path).await;
        let page = response.assert_page(200);
        assert!(page.contains("&lt;script&gt;") || page.contains("&#60;script&#62;"), "{path}:\n{page}");
        assert!(!page.contains("<img"), "{path}");
    }
    // Invalid input is escaped when it is shown again, too.
    let fields = [("first_name", evil), ("email", evil)];
    let response = app.post_form(&format!("/cases/{case}/contacts"), &fields).await;
    assert!(!response.assert_page(422).contains("<img"));
    // And so is a case id that reaches an error page.
    let response = app.get("/cases/%3Cscript%3E").await;
    response.assert_page(400);
}

crate::on_every_store!(
    every_kind_of_response_carries_the_security_headers,
    every_form_post_needs_the_csrf_token_of_its_cookie,
    a_planted_csrf_cookie_or_another_sessions_token_does_not_pass,
    form_posts_from_another_site_are_refused,
    secure_cookies_carry_the_host_prefix,
    a_declared_length_over_the_limit_answers_413_at_once,
    bodies_over_64_kib_answer_413,
    every_value_is_html_escaped,
);
