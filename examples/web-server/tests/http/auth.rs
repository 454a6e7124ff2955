//! Authentication: tokens in the header, the sign-in cookie, and `DISABLE_AUTH`.

use axum::body::Body;
use axum::http::{Method, Request};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use renraku_web::{AppState, Auth};
use serde_json::json;

use crate::common::{
    ISSUER, OTHER_PRIVATE_KEY, PRIVATE_KEY, PUBLIC_KEY, TestApp, app_under_test, claims, full_contact, now,
    sign, store_under_test, token,
};

/// Tokens that must all be refused, each with why.
fn bad_tokens() -> Vec<(&'static str, String)> {
    let mut no_exp = claims(json!("u1"));
    no_exp.as_object_mut().unwrap().remove("exp");
    let mut no_iss = claims(json!("u1"));
    no_iss.as_object_mut().unwrap().remove("iss");
    let mut wrong_iss = claims(json!("u1"));
    wrong_iss["iss"] = json!("someone-else");
    let mut expired = claims(json!("u1"));
    expired["exp"] = json!(now() - 3600);
    let mut flat_sub = claims(json!("u1"));
    flat_sub["sub"] = json!("u1");
    let hs256_with_public_key = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(json!("u1")),
        &EncodingKey::from_secret(PUBLIC_KEY),
    )
    .unwrap();
    // `{"alg":"none","typ":"JWT"}` with the claims of a valid token and no signature.
    let valid = token();
    let payload = valid.split('.').nth(1).unwrap();
    let alg_none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
    vec![
        ("signed with another key", sign(&claims(json!("u1")), OTHER_PRIVATE_KEY)),
        ("HS256 keyed with the public key", hs256_with_public_key),
        ("alg none", alg_none),
        ("expired", sign(&expired, PRIVATE_KEY)),
        ("wrong issuer", sign(&wrong_iss, PRIVATE_KEY)),
        ("no exp", sign(&no_exp, PRIVATE_KEY)),
        ("no iss", sign(&no_iss, PRIVATE_KEY)),
        ("sub without id", sign(&flat_sub, PRIVATE_KEY)),
        ("empty sub.id", sign(&claims(json!("")), PRIVATE_KEY)),
        ("fractional sub.id", sign(&claims(json!(1.5)), PRIVATE_KEY)),
        ("garbage", "not.a.token".to_owned()),
        // serde reads a struct from an array too: `[sub, iss, exp]` must not sign in.
        ("claims as an array", sign(&json!([["u1"], ISSUER, now() + 3600]), PRIVATE_KEY)),
        ("sub as an array", sign(&json!({ "sub": ["u1"], "iss": ISSUER, "exp": now() + 3600 }), PRIVATE_KEY)),
        ("tampered", format!("{valid}x")),
    ]
}

async fn pages_without_a_token_answer_401_with_a_link_to_sign_in() {
    let app = app_under_test().await.without_bearer();
    let case = app.new_case();
    let contact = format!("/cases/{case}/contacts/{}", renraku_core::ContactId::new());
    for path in [
        format!("/cases/{case}"),
        format!("/cases/{case}/contacts/new"),
        contact.clone(),
        format!("{contact}/edit"),
        format!("{contact}/delete"),
        format!("/cases/{case}/audit"),
        format!("/cases/{case}/erase"),
    ] {
        let response = app.get(&path).await;
        let page = response.assert_page(401);
        assert!(page.contains(r#"href="/session?next=%2Fcases%2F"#), "{path}: {page}");
        assert!(response.header("www-authenticate").is_some_and(|c| c.starts_with("Bearer")));
    }
    // Forms too, before anything else is looked at.
    for path in [
        format!("/cases/{case}/contacts"),
        contact.clone(),
        format!("{contact}/delete"),
        format!("/cases/{case}/erase"),
    ] {
        app.post_form(&path, &[("first_name", "Ada"), ("version", "1")]).await.assert_page(401);
    }
}

/// The README: the pages without contact data need no token; every other page does.
async fn pages_without_contact_data_need_no_token() {
    let app = app_under_test().await.without_bearer();
    let home = app.get("/").await;
    assert!(home.assert_page(200).contains(r#"href="/session"#), "a link to sign in: {}", home.body);
    app.get("/cases?case_id=42").await.assert_status(303);
    app.get("/session").await.assert_page(200);
    app.get("/style.css").await.assert_status(200);
}

async fn the_api_without_a_token_answers_401_problems() {
    let app = app_under_test().await.without_bearer();
    let case = app.new_case();
    let response = app.api(Method::GET, &format!("/api/cases/{case}/contacts"), None).await;
    response.assert_problem(401);
    assert!(response.header("www-authenticate").is_some());
    let create = app.api(Method::POST, &format!("/api/cases/{case}/contacts"), Some(full_contact())).await;
    create.assert_problem(401);
}

async fn heartbeat_needs_no_token_and_has_no_body() {
    let app = app_under_test().await.without_bearer();
    let response = app.api(Method::GET, "/api/heartbeat", None).await;
    response.assert_status(204);
    assert!(response.body.is_empty());
}

async fn the_bearer_prefix_is_optional() {
    let app = app_under_test().await.without_bearer();
    let case = app.new_case();
    let path = format!("/api/cases/{case}/contacts");
    for value in [token(), format!("Bearer {}", token()), format!("bearer {}", token())] {
        let response = app.api_with(Method::GET, &path, None, &[("authorization", &value)]).await;
        response.assert_status(200);
    }
    let page = app.raw(Request::get("/").header("authorization", token()).body(Body::empty()).unwrap()).await;
    assert!(page.assert_page(200).contains("Signed in as <strong>clerk-7</strong>"));
}

async fn every_bad_token_is_refused() {
    let app = app_under_test().await.without_bearer();
    let case = app.new_case();
    for (why, bad) in bad_tokens() {
        let header = format!("Bearer {bad}");
        let path = format!("/api/cases/{case}/contacts");
        app.api_with(Method::GET, &path, None, &[("authorization", &header)]).await.assert_problem(401);
        let request =
            Request::get(format!("/cases/{case}")).header("authorization", &header).body(Body::empty());
        let page = app.raw(request.unwrap()).await;
        assert_eq!(page.status, 401, "{why}: {}", page.body);
    }
}

async fn the_actor_is_sub_id_as_string_or_number() {
    let app = app_under_test().await;
    let case = app.new_case();
    for (id, actor) in [(json!("user-17"), "user-17"), (json!(1234), "1234"), (json!(-5), "-5")] {
        let header = format!("Bearer {}", sign(&claims(id), PRIVATE_KEY));
        let path = format!("/api/cases/{case}/contacts");
        let created =
            app.api_with(Method::POST, &path, Some(full_contact()), &[("authorization", &header)]).await;
        created.assert_status(201);
        assert_eq!(created.json()["created_by"], actor);
    }
}

async fn signing_in_sets_an_http_only_strict_cookie_that_lives_while_the_token_is_accepted() {
    let app = app_under_test().await.without_bearer();
    let case = app.new_case();
    app.get(&format!("/cases/{case}")).await.assert_page(401);

    let form = app.get(&format!("/session?next=/cases/{case}")).await;
    let page = form.assert_page(200);
    assert!(
        page.contains(r#"name="token""#) && page.contains(&format!(r#"name="next" value="/cases/{case}""#))
    );

    let exp = now() + 1800;
    let mut token_claims = claims(json!("clerk-9"));
    token_claims["exp"] = json!(exp);
    let signed = sign(&token_claims, PRIVATE_KEY);
    let response =
        app.post_form("/session", &[("token", &signed), ("next", &format!("/cases/{case}"))]).await;
    response.assert_status(303);
    assert_eq!(response.location(), format!("/cases/{case}"));
    let cookie = response.set_cookie("renraku_session").expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"),
        "{cookie}"
    );
    // The server accepts the token until its expiry plus 60 s of leeway, and so long the
    // browser keeps the cookie.
    let expires = time::OffsetDateTime::from_unix_timestamp(exp + 60).unwrap();
    let http_date =
        format!("{:02} {} {}", expires.day(), &format!("{:?}", expires.month())[..3], expires.year());
    assert!(
        cookie.contains("Expires=") && cookie.contains(&http_date),
        "{cookie} should expire on {http_date}"
    );
    let max_age: i64 = cookie.split("Max-Age=").nth(1).unwrap().split(';').next().unwrap().parse().unwrap();
    assert!((1850..=1860).contains(&max_age), "{cookie}");

    // The cookie now signs in the pages, as clerk-9.
    let fields = [("first_name", "Ada"), ("phone", "+49 30 1234567")];
    let created = app.post_form(&format!("/cases/{case}/contacts"), &fields).await;
    created.assert_status(303);
    let page = app.get(created.location()).await;
    let page = page.assert_page(200);
    assert!(page.contains("Signed in as <strong>clerk-9</strong>") && page.contains("by clerk-9"), "{page}");

    // Signing out clears the cookie.
    let out = app.post_form("/session/delete", &[]).await;
    out.assert_status(303);
    assert!(out.set_cookie("renraku_session").unwrap().contains("Max-Age=0"));
    assert!(app.cookie("renraku_session").is_none());
    app.get(&format!("/cases/{case}")).await.assert_page(401);
}

/// A token past its expiry but within the leeway is accepted: its cookie must live until
/// the server stops accepting it, not arrive already expired (`Max-Age=0`).
async fn a_token_within_the_leeway_signs_in_with_a_cookie_that_lives() {
    let app = app_under_test().await.without_bearer();
    let case = app.new_case();
    let mut late = claims(json!("clerk-late"));
    late["exp"] = json!(now() - 30);
    let response = app.post_form("/session", &[("token", &sign(&late, PRIVATE_KEY))]).await;
    response.assert_status(303);
    let cookie = response.set_cookie("renraku_session").expect("a session cookie");
    let max_age: i64 = cookie.split("Max-Age=").nth(1).unwrap().split(';').next().unwrap().parse().unwrap();
    assert!((1..=30).contains(&max_age), "{cookie}");
    let page = app.get(&format!("/cases/{case}")).await;
    assert!(page.assert_page(404).contains("Signed in as <strong>clerk-late</strong>"), "{}", page.body);
}

async fn signing_in_with_a_bad_token_is_a_401_and_sets_no_cookie() {
    let app = app_under_test().await.without_bearer();
    for (why, bad) in bad_tokens() {
        let response = app.post_form("/session", &[("token", &bad)]).await;
        let page = response.assert_page(401);
        assert!(page.contains("The token is not valid") && page.contains(r#"name="token""#), "{why}: {page}");
        assert!(response.set_cookie("renraku_session").is_none(), "{why}");
    }
    let empty = app.post_form("/session", &[("token", "")]).await;
    empty.assert_page(401);
}

async fn sign_in_only_redirects_within_the_site() {
    let app = app_under_test().await.without_bearer();
    for next in ["https://evil.example/", "//evil.example/x", "/\\evil.example"] {
        let response = app.post_form("/session", &[("token", &token()), ("next", next)]).await;
        response.assert_status(303);
        assert_eq!(response.location(), "/", "{next}");
    }
}

async fn a_present_header_decides_even_with_a_valid_cookie() {
    let app = app_under_test().await.without_bearer();
    app.set_cookie("renraku_session", &token());
    let case = app.new_case();
    let created = app.post_form(&format!("/cases/{case}/contacts"), &[("last_name", "Cookie")]).await;
    created.assert_status(303);
    let request = Request::get(format!("/cases/{case}"))
        .header("cookie", format!("renraku_session={}", token()))
        .header("authorization", "Bearer not-a-token")
        .body(Body::empty())
        .unwrap();
    app.raw(request).await.assert_page(401);
}

async fn the_api_does_not_accept_the_session_cookie() {
    let app = app_under_test().await.without_bearer();
    let case = app.new_case();
    let request = Request::get(format!("/api/cases/{case}/contacts"))
        .header("cookie", format!("renraku_session={}", token()))
        .body(Body::empty())
        .unwrap();
    app.raw(request).await.assert_problem(401);
}

async fn disable_auth_lets_everything_through_as_the_dev_user() {
    let verifier = renraku_web::JwtVerifier::from_rsa_pem(PUBLIC_KEY, ISSUER).unwrap();
    let state = AppState::new(store_under_test().await, Auth::Disabled { verifier: Some(verifier) });
    let app = TestApp::new(state);
    let case = app.new_case();
    let created = app.api(Method::POST, &format!("/api/cases/{case}/contacts"), Some(full_contact())).await;
    created.assert_status(201);
    assert_eq!(created.json()["created_by"], renraku_web::DEV_ACTOR);
    let page = app.get(&format!("/cases/{case}")).await;
    let page = page.assert_page(200);
    assert!(page.contains("Authentication disabled") && page.contains("dev-user"), "{page}");

    // Without a key, the sign-in page explains that there is nothing to sign in to.
    let state = AppState::new(store_under_test().await, Auth::Disabled { verifier: None });
    let app = TestApp::new(state);
    let response = app.post_form("/session", &[("token", &token())]).await;
    assert!(response.assert_page(400).contains("Authentication is disabled"));
}

/// With `DISABLE_AUTH`, a request for any host name but a loopback one is refused, so
/// that a page whose name was rebound to 127.0.0.1 cannot use a developer's server.
async fn disable_auth_answers_loopback_host_names_only() {
    let app = TestApp::new(AppState::new(store_under_test().await, Auth::Disabled { verifier: None }));
    let case = app.new_case();
    let with_host = |method: Method, path: &str, host: &str| {
        Request::builder().method(method).uri(path).header("host", host).body(Body::empty()).unwrap()
    };
    for host in ["localhost", "localhost:4000", "127.0.0.1:4000", "[::1]:4000", "renraku.localhost"] {
        app.raw(with_host(Method::GET, "/", host)).await.assert_page(200);
        app.raw(with_host(Method::GET, &format!("/api/cases/{case}/contacts"), host))
            .await
            .assert_status(200);
    }
    for host in ["evil.example", "evil.example:4000", "127.0.0.1.evil.example", "localhost.evil.example"] {
        let page = app.raw(with_host(Method::GET, "/", host)).await;
        assert!(page.assert_page(403).contains("loopback host name"), "{host}");
        let api = app.raw(with_host(Method::GET, &format!("/api/cases/{case}/contacts"), host)).await;
        api.assert_problem(403);
    }
    let no_host = app.raw(Request::get("/").header("host", "").body(Body::empty()).unwrap()).await;
    no_host.assert_page(403);

    // With authentication, the host name does not matter (a proxy may use any).
    let app = app_under_test().await;
    app.raw(with_host(Method::GET, "/", "renraku.example.org")).await.assert_page(200);
}

crate::on_every_store!(
    pages_without_contact_data_need_no_token,
    pages_without_a_token_answer_401_with_a_link_to_sign_in,
    the_api_without_a_token_answers_401_problems,
    heartbeat_needs_no_token_and_has_no_body,
    the_bearer_prefix_is_optional,
    every_bad_token_is_refused,
    the_actor_is_sub_id_as_string_or_number,
    signing_in_sets_an_http_only_strict_cookie_that_lives_while_the_token_is_accepted,
    a_token_within_the_leeway_signs_in_with_a_cookie_that_lives,
    signing_in_with_a_bad_token_is_a_401_and_sets_no_cookie,
    sign_in_only_redirects_within_the_site,
    a_present_header_decides_even_with_a_valid_cookie,
    the_api_does_not_accept_the_session_cookie,
    disable_auth_lets_everything_through_as_the_dev_user,
    disable_auth_answers_loopback_host_names_only,
);
