//! `renraku-web`: reads its configuration, opens the store and serves until SIGTERM or
//! Ctrl-C, then finishes the requests in flight and exits 0.

use clap::Parser as _;
use renraku_web::serve::serve;
use renraku_web::{AppState, Config, app, metrics, open_store, telemetry};
use tokio::sync::watch;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    // Declared first, dropped last: the buffered log lines are written out on every return.
    let _log = telemetry::init();
    config.check()?;
    if config.disable_auth {
        tracing::warn!(
            "DISABLE_AUTH is on: every request acts as the development user {:?} without a token. \
             NEVER use this in production.",
            renraku_web::DEV_ACTOR
        );
    }
    let shutdown = shutdown_signal()?;
    let store = open_store(&config).await?;
    let storage = if store.pool.is_some() { "postgres" } else { "memory" };
    let repository = store.repository.clone();
    let mut state = AppState::new(store.repository, config.auth()?)
        .with_secure_cookies(config.secure_cookies)
        .with_time_zone(config.time_zone)
        .with_default_roles(config.default_roles.0);
    if let Some(pool) = store.pool {
        state = state.with_database(pool);
    }
    let (limits, open_files) = config.limits().within_open_file_limit();
    if let Some(open_files) = open_files {
        tracing::warn!(
            max_connections = limits.max_connections,
            open_files,
            "RENRAKU_MAX_CONNECTIONS lowered to stay below the open-file limit (ulimit -n)"
        );
    }
    // Both listeners stop on the same signal.
    let (stop, stopped) = watch::channel(false);
    let until_stopped = |mut stopped: watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };
    let metrics_server = match config.metrics_listen {
        Some(address) => {
            let listener = tokio::net::TcpListener::bind(address).await?;
            tracing::info!("metrics on http://{}/metrics", listener.local_addr()?);
            let router = metrics::router(state.clone());
            Some(tokio::spawn(serve(listener, router, limits, None, until_stopped(stopped.clone()))))
        }
        None => None,
    };
    // The retention task stops on the same signal, too.
    let retention = config.retention().map(|retention| {
        renraku_web::retention::spawn(repository.clone(), retention, until_stopped(stopped.clone()))
    });
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    tracing::info!(storage, "listening on http://{}", listener.local_addr()?);
    let stats = Some(state.metrics().connections());
    let server = tokio::spawn(serve(listener, app(state), limits, stats, until_stopped(stopped)));
    shutdown.await;
    let _ = stop.send(true);
    server.await??;
    if let Some(metrics_server) = metrics_server {
        metrics_server.await??;
    }
    if let Some(retention) = retention {
        retention.await?;
    }
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGTERM (service managers, `docker stop`) or Ctrl-C (SIGINT). The handlers
/// are installed when this is called, not when it is first awaited: the listeners serve
/// from their own tasks, so a signal may come before `main` awaits it.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        tracing::info!("shutting down");
    })
}
