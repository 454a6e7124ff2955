//! `renraku-web`: reads its configuration, opens the store and serves until SIGTERM or
//! Ctrl-C, then finishes the requests in flight and exits 0.

use clap::Parser as _;
use renraku_web::{AppState, Config, app, open_store, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    telemetry::init();
    config.check()?;
    if config.disable_auth {
        tracing::warn!(
            "DISABLE_AUTH is on: every request acts as the development user {:?} without a token. \
             NEVER use this in production.",
            renraku_web::DEV_ACTOR
        );
    }
    let store = open_store(&config).await?;
    let storage = if config.database_url.is_some() { "postgres" } else { "memory" };
    let state = AppState::new(store, config.auth()?)
        .with_secure_cookies(config.secure_cookies)
        .with_time_zone(config.time_zone);
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    tracing::info!(storage, "listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app(state)).with_graceful_shutdown(shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGTERM (service managers, `docker stop`) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
