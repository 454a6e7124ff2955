//! The retention task on the store under test: it purges what is due, leaves what is not,
//! and stops when told.

use std::time::{Duration, Instant};

use axum::http::Method;
use renraku_web::retention::{RETENTION_ACTOR, Retention, spawn};
use renraku_web::{AppState, Auth, JwtVerifier};
use serde_json::json;

use crate::common::{ISSUER, PUBLIC_KEY, TestApp, store_under_test, token};

async fn the_retention_task_purges_due_contacts_and_stops_on_shutdown() {
    let store = store_under_test().await;
    let verifier = JwtVerifier::from_rsa_pem(PUBLIC_KEY, ISSUER).unwrap();
    let app = TestApp::new(AppState::new(store.clone(), Auth::Jwt(verifier))).with_bearer(token());
    let case = app.new_case();
    let old = app.create(&case, json!({"first_name": "Ada", "phone": "030 1234567"})).await;
    let path = |c: &serde_json::Value| format!("/api/cases/{case}/contacts/{}", c["id"].as_str().unwrap());
    let retention = Retention { period: Duration::from_millis(1500), interval: Duration::from_millis(100) };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = spawn(store, retention, async move {
        let _ = stopped.await;
    });
    // Not due yet.
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.api(Method::GET, &path(&old), None).await.assert_status(200);
    let fresh = app.create(&case, json!({"first_name": "Bea"})).await;
    // Due: purged by the next run, within a few intervals.
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.api(Method::GET, &path(&old), None).await.status != 404 {
        assert!(Instant::now() < deadline, "the contact was not purged");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The younger contact stays until it is due itself.
    app.api(Method::GET, &path(&fresh), None).await.assert_status(200);
    let audit = app.api(Method::GET, &format!("/api/cases/{case}/audit?limit=500"), None).await.json();
    let purged: Vec<_> =
        audit["items"].as_array().unwrap().iter().filter(|e| e["action"] == "purged").collect();
    assert_eq!(purged.len(), 1, "{audit}");
    assert_eq!(purged[0]["actor"], RETENTION_ACTOR);
    assert_eq!(purged[0]["contact_id"], old["id"]);

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), task).await.expect("the task stops").expect("no panic");
}

crate::on_every_store!(the_retention_task_purges_due_contacts_and_stops_on_shutdown);
