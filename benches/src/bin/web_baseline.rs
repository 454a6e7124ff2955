//! The baseline of the web example's load test on PostgreSQL (`scripts/loadtest.sh`): a
//! minimal axum server that selects the same rows from renraku's tables with hand-written
//! sqlx and renders the same fields, as plain HTML for the contact and case pages and as JSON
//! for the API. No template engine, no middleware, no access policy, no metrics, no logs.
//!
//! One more route, `/library/cases/{case_id}/contacts/{id}`, answers the JSON get through
//! renraku-postgres (`PgContactRepository::get`) instead of the hand-written query: the same
//! minimal server with the library in it, which splits the gap to renraku-web into the
//! library's share and the web example's.
//!
//! It only looks for a bearer token and does not verify it: a stricter baseline than a real
//! host (renraku-web checks each token's RS256 signature once, then finds it in a cache), so
//! the gap to renraku-web includes its authentication.
//!
//! ```text
//! DATABASE_URL=postgres://… RENRAKU_LISTEN=127.0.0.1:4001 web_baseline
//! ```
//!
//! It reads the tables renraku-web migrated (schema `renraku`), on a pool with the options
//! renraku-web's has (`renraku_postgres::pool_options`).

#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use renraku_core::{Actor, CaseId, ContactId, ContactRepository};
use renraku_postgres::PgContactRepository;
use sqlx::PgPool;
use uuid::Uuid;

/// The columns of renraku's contact row, in this order.
const COLUMNS: &str = "title, first_name, last_name, phone, phone_e164, email, address, relationship, \
                       version, created_at, updated_at, created_by, updated_by, id";

/// As many contacts as renraku-web's case page shows.
const CASE_PAGE: i64 = 20;

#[derive(sqlx::FromRow, serde::Serialize)]
struct Contact {
    title: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
    phone_e164: Option<String>,
    email: Option<String>,
    address: Option<String>,
    relationship: Option<String>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    created_by: String,
    updated_by: String,
    id: Uuid,
}

struct App {
    pool: PgPool,
    repo: PgContactRepository,
}

type Shared = State<Arc<App>>;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let pool = renraku_postgres::pool_options().connect(&var("DATABASE_URL")?).await?;
    let repo = PgContactRepository::builder(pool.clone()).build()?;
    let app = Arc::new(App { pool, repo });
    let router = Router::new()
        .route("/cases/{case_id}", get(case_page))
        .route("/cases/{case_id}/contacts/{id}", get(contact_page))
        .route("/api/cases/{case_id}/contacts/{id}", get(contact_json))
        .route("/library/cases/{case_id}/contacts/{id}", get(library_json))
        .with_state(app);
    let listener = tokio::net::TcpListener::bind(var("RENRAKU_LISTEN")?).await?;
    axum::serve(listener, router).await?;
    Ok(())
}

/// `401` without a bearer token (which is not verified: see the module's docs).
fn authorize(headers: &HeaderMap) -> Result<(), StatusCode> {
    let bearer = headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok());
    match bearer.and_then(|value| value.strip_prefix("Bearer ")) {
        Some(token) if !token.is_empty() => Ok(()),
        _ => Err(StatusCode::UNAUTHORIZED),
    }
}

async fn select_contact(app: &App, case_id: &str, id: Uuid) -> Result<Contact, StatusCode> {
    let sql = format!("SELECT {COLUMNS} FROM renraku.contacts WHERE case_id = $1 AND id = $2");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(case_id)
        .bind(id)
        .fetch_optional(&app.pool)
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
        .ok_or(StatusCode::NOT_FOUND)
}

async fn contact_page(
    State(app): Shared,
    headers: HeaderMap,
    Path((case_id, id)): Path<(String, Uuid)>,
) -> Result<Html<String>, StatusCode> {
    authorize(&headers)?;
    let c = select_contact(&app, &case_id, id).await?;
    let mut html = format!("<!doctype html><title>Contact</title><h1>{}</h1><dl>", escape(&name(&c)));
    let fields = [
        ("Title", &c.title),
        ("First name", &c.first_name),
        ("Last name", &c.last_name),
        ("Phone", &c.phone),
        ("Phone (E.164)", &c.phone_e164),
        ("Email", &c.email),
        ("Address", &c.address),
        ("Relationship", &c.relationship),
    ];
    for (label, value) in fields {
        let _ = write!(html, "<dt>{label}<dd>{}", escape(value.as_deref().unwrap_or("")));
    }
    let _ = write!(
        html,
        "</dl><p>Version {}, created {} by {}, updated {} by {}",
        c.version,
        c.created_at.to_rfc3339(),
        escape(&c.created_by),
        c.updated_at.to_rfc3339(),
        escape(&c.updated_by)
    );
    Ok(Html(html))
}

async fn case_page(State(app): Shared, headers: HeaderMap, Path(case_id): Path<String>) -> Response {
    if let Err(status) = authorize(&headers) {
        return status.into_response();
    }
    let sql = format!("SELECT {COLUMNS} FROM renraku.contacts WHERE case_id = $1 ORDER BY id LIMIT $2");
    let query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(&case_id).bind(CASE_PAGE + 1);
    let contacts: Vec<Contact> = match query.fetch_all(&app.pool).await {
        Ok(contacts) => contacts,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let mut html = format!("<!doctype html><title>Case</title><h1>Case {}</h1><table>", escape(&case_id));
    for c in contacts.iter().take(CASE_PAGE as usize) {
        let _ = write!(
            html,
            "<tr><td><a href=\"/cases/{}/contacts/{}\">{}</a><td>{}<td>{}<td>{}",
            escape(&case_id),
            c.id,
            escape(&name(c)),
            escape(c.phone.as_deref().unwrap_or("")),
            escape(c.email.as_deref().unwrap_or("")),
            escape(c.relationship.as_deref().unwrap_or(""))
        );
    }
    html.push_str("</table>");
    if contacts.len() > CASE_PAGE as usize {
        html.push_str("<a href=\"?after=next\">Next</a>");
    }
    Html(html).into_response()
}

async fn contact_json(
    State(app): Shared,
    headers: HeaderMap,
    Path((case_id, id)): Path<(String, Uuid)>,
) -> Result<Json<Contact>, StatusCode> {
    authorize(&headers)?;
    Ok(Json(select_contact(&app, &case_id, id).await?))
}

/// The JSON get through renraku-postgres, as renraku-web's handler makes it.
async fn library_json(
    State(app): Shared,
    headers: HeaderMap,
    Path((case_id, id)): Path<(String, Uuid)>,
) -> Result<Json<renraku_core::Contact>, StatusCode> {
    static ACTOR: std::sync::LazyLock<Actor> =
        std::sync::LazyLock::new(|| Actor::new("loadtest").expect("a valid actor"));
    authorize(&headers)?;
    let case_id = CaseId::new(case_id).map_err(|_| StatusCode::NOT_FOUND)?;
    match app.repo.get(&case_id, ContactId::from_uuid(id), &ACTOR).await {
        Ok(contact) => Ok(Json(contact)),
        Err(renraku_core::Error::NotFound { .. }) => Err(StatusCode::NOT_FOUND),
        Err(_) => Err(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

fn name(c: &Contact) -> String {
    let parts = [&c.title, &c.first_name, &c.last_name];
    parts.iter().filter_map(|part| part.as_deref()).collect::<Vec<_>>().join(" ")
}

/// Escapes text for HTML (written by hand: a baseline is what a minimal host writes).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            ch => out.push(ch),
        }
    }
    out
}
