//! `renraku-audit-forwarder`: follows the change feed of a renraku repository on PostgreSQL
//! and delivers every audit event elsewhere, **at least once**.
//!
//! - **Where to:** each event as one JSON line on standard output, or pages of events as
//!   HTTP POSTs of JSON lines (`application/x-ndjson`) to `FORWARDER_URL`. A POST counts as
//!   delivered on a 2xx answer; anything else is retried with exponential backoff (100 ms,
//!   doubling, up to `FORWARDER_MAX_BACKOFF_MS`) for as long as it takes.
//! - **The cursor** is stored durably only after its events are delivered: in a table of
//!   the followed database (`renraku_forwarder.cursors`, one row per `FORWARDER_NAME`), or
//!   in `FORWARDER_CURSOR_FILE` (written to a temporary file, synced, then renamed). A
//!   forwarder that is killed delivers the page it was delivering again when it restarts:
//!   receivers drop duplicates by the event's `id`.
//! - **Waiting** uses the repository's `wait_for_events` (PostgreSQL `LISTEN`/`NOTIFY`),
//!   with a re-read every `FORWARDER_REREAD_MS` in case a notification is lost.
//! - **Shutdown:** on SIGTERM or Ctrl-C it finishes the delivery in progress (unless that
//!   is still being retried), stores the cursor and exits 0.

#![allow(clippy::missing_errors_doc)]

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use renraku_core::{Actor, AuditEvent, ContactRepository, FeedCursor, PageLimit};
use renraku_postgres::PgContactRepository;
use sqlx::PgPool;
use tokio::io::AsyncWriteExt as _;
use tokio::sync::watch;

/// The forwarder's configuration, from flags or the environment.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "renraku-audit-forwarder", version, about)]
pub struct Config {
    /// The PostgreSQL database whose renraku feed to follow.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,
    /// renraku's schema in that database.
    #[arg(long, env = "RENRAKU_SCHEMA", default_value = renraku_postgres::DEFAULT_SCHEMA)]
    pub schema: String,
    /// Deliver by HTTP POST to this URL (http only); without it, to standard output.
    #[arg(long, env = "FORWARDER_URL")]
    pub url: Option<String>,
    /// Store the cursor in this file instead of the database.
    #[arg(long, env = "FORWARDER_CURSOR_FILE")]
    pub cursor_file: Option<PathBuf>,
    /// The name of this forwarder: the key of its cursor in the database.
    #[arg(long, env = "FORWARDER_NAME", default_value = "audit-forwarder")]
    pub name: String,
    /// The most events read, delivered and acknowledged at a time (1 to 500).
    #[arg(long, env = "FORWARDER_BATCH", default_value_t = 100)]
    pub batch: u32,
    /// How often to read the feed again when no notification came, in milliseconds.
    #[arg(long, env = "FORWARDER_REREAD_MS", default_value_t = 1000)]
    pub reread_ms: u64,
    /// The longest pause between two delivery attempts, in milliseconds.
    #[arg(long, env = "FORWARDER_MAX_BACKOFF_MS", default_value_t = 30_000)]
    pub max_backoff_ms: u64,
}

/// Where delivered events go.
#[derive(Debug)]
enum Sink {
    Stdout(tokio::io::Stdout),
    Http { client: Client<HttpConnector, Full<Bytes>>, url: http::Uri },
}

/// Where the cursor is kept.
#[derive(Debug)]
enum CursorStore {
    Table { pool: PgPool, name: String },
    File(PathBuf),
}

const CURSOR_TABLE: &str = "CREATE SCHEMA IF NOT EXISTS renraku_forwarder;
    CREATE TABLE IF NOT EXISTS renraku_forwarder.cursors (
        name text PRIMARY KEY,
        cursor text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
    )";

impl CursorStore {
    async fn open(config: &Config, pool: &PgPool) -> anyhow::Result<Self> {
        if let Some(path) = &config.cursor_file {
            return Ok(Self::File(path.clone()));
        }
        // Two forwarders creating the table at once: the second waits for the first.
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('renraku_forwarder.cursors'))")
            .execute(&mut *tx)
            .await?;
        sqlx::raw_sql(CURSOR_TABLE).execute(&mut *tx).await.context("creating the cursor table")?;
        tx.commit().await?;
        Ok(Self::Table { pool: pool.clone(), name: config.name.clone() })
    }

    async fn load(&self) -> anyhow::Result<FeedCursor> {
        let stored = match self {
            Self::Table { pool, name } => {
                sqlx::query_scalar("SELECT cursor FROM renraku_forwarder.cursors WHERE name = $1")
                    .bind(name)
                    .fetch_optional(pool)
                    .await?
            }
            Self::File(path) => match tokio::fs::read_to_string(path).await {
                Ok(text) => Some(text.trim().to_owned()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(e).context("reading the cursor file"),
            },
        };
        match stored {
            Some(text) => text.parse().context("the stored cursor is not a feed cursor"),
            None => Ok(FeedCursor::START),
        }
    }

    async fn save(&self, cursor: FeedCursor) -> anyhow::Result<()> {
        match self {
            Self::Table { pool, name } => {
                sqlx::query(
                    "INSERT INTO renraku_forwarder.cursors (name, cursor) VALUES ($1, $2)
                    ON CONFLICT (name) DO UPDATE SET cursor = excluded.cursor, updated_at = now()",
                )
                .bind(name)
                .bind(cursor.to_string())
                .execute(pool)
                .await?;
            }
            Self::File(path) => {
                let temporary = path.with_extension("tmp");
                let mut file = tokio::fs::File::create(&temporary).await?;
                file.write_all(cursor.to_string().as_bytes()).await?;
                file.sync_all().await?;
                tokio::fs::rename(&temporary, path).await?;
            }
        }
        Ok(())
    }
}

/// What stopped a delivery.
#[derive(Debug)]
enum Stop {
    Shutdown,
}

impl Sink {
    fn open(config: &Config) -> anyhow::Result<Self> {
        match &config.url {
            None => Ok(Self::Stdout(tokio::io::stdout())),
            Some(url) => {
                let url: http::Uri = url.parse().context("FORWARDER_URL is not a URL")?;
                anyhow::ensure!(url.scheme_str() == Some("http"), "FORWARDER_URL must be an http:// URL");
                let client = Client::builder(TokioExecutor::new()).build_http();
                Ok(Self::Http { client, url })
            }
        }
    }

    /// Delivers `events`, retrying with backoff until it succeeds or shutdown is asked for.
    async fn deliver(
        &mut self,
        events: &[AuditEvent],
        max_backoff: Duration,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), Stop> {
        let mut body = Vec::new();
        for event in events {
            serde_json::to_writer(&mut body, event).expect("an audit event serializes");
            body.push(b'\n');
        }
        let mut backoff = Duration::from_millis(100);
        loop {
            match self.attempt(&body).await {
                Ok(()) => return Ok(()),
                Err(why) => tracing::warn!(error = %why, retry_in = ?backoff, "delivery failed"),
            }
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                _ = shutdown.wait_for(|stop| *stop) => return Err(Stop::Shutdown),
            }
            backoff = (backoff * 2).min(max_backoff);
        }
    }

    async fn attempt(&mut self, body: &[u8]) -> anyhow::Result<()> {
        match self {
            Self::Stdout(out) => {
                out.write_all(body).await?;
                out.flush().await?;
                Ok(())
            }
            Self::Http { client, url } => {
                let request = http::Request::post(url.clone())
                    .header(http::header::CONTENT_TYPE, "application/x-ndjson")
                    .body(Full::new(Bytes::copy_from_slice(body)))?;
                let response = tokio::time::timeout(Duration::from_secs(30), client.request(request))
                    .await
                    .context("the receiver did not answer within 30 s")??;
                let status = response.status();
                anyhow::ensure!(status.is_success(), "the receiver answered {status}");
                Ok(())
            }
        }
    }
}

/// Follows the feed until `shutdown` turns true.
pub async fn run(config: Config, mut shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
    let limit = PageLimit::new(config.batch).context("FORWARDER_BATCH must be between 1 and 500")?;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(3)
        .acquire_timeout(Duration::from_secs(10))
        .connect(&config.database_url)
        .await
        .context("connecting to the database")?;
    let repo = PgContactRepository::builder(pool.clone()).schema(&config.schema).build()?;
    let store = CursorStore::open(&config, &pool).await?;
    let mut sink = Sink::open(&config)?;
    let actor = Actor::new(config.name.clone()).context("FORWARDER_NAME must be a valid actor id")?;
    let (reread, max_backoff) =
        (Duration::from_millis(config.reread_ms.max(1)), Duration::from_millis(config.max_backoff_ms.max(1)));

    let mut cursor = store.load().await?;
    tracing::info!(%cursor, "following the feed");
    let mut retry = Duration::from_millis(100);
    while !*shutdown.borrow() {
        let page = match repo.feed(&cursor, limit, &actor).await {
            Ok(page) => page,
            Err(renraku_core::Error::UnknownCursor) => {
                anyhow::bail!(
                    "the stored cursor {cursor} names no event of this feed (another database or schema?)"
                )
            }
            Err(why) => {
                tracing::warn!(error = %why, retry_in = ?retry, "reading the feed failed");
                tokio::select! {
                    () = tokio::time::sleep(retry) => {}
                    _ = shutdown.wait_for(|stop| *stop) => break,
                }
                retry = (retry * 2).min(max_backoff);
                continue;
            }
        };
        retry = Duration::from_millis(100);
        if !page.events.is_empty() {
            if let Err(Stop::Shutdown) = sink.deliver(&page.events, max_backoff, &mut shutdown).await {
                break;
            }
            store.save(page.next).await.context("storing the cursor")?;
            tracing::debug!(events = page.events.len(), cursor = %page.next, "delivered");
        }
        cursor = page.next;
        if !page.more {
            tokio::select! {
                waited = repo.wait_for_events(&cursor, reread, &actor) => {
                    if let Err(why) = waited {
                        tracing::warn!(error = %why, "waiting for events failed");
                        tokio::time::sleep(reread).await;
                    }
                }
                _ = shutdown.wait_for(|stop| *stop) => break,
            }
        }
    }
    tracing::info!(%cursor, "stopped");
    Ok(())
}
