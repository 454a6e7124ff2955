//! A Citus cluster for tests, found or started on demand, and fresh distributed
//! repositories on it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use renraku_core::Rules;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::TestServer;
use crate::PgContactRepository;

/// The shards of each table of a [`fresh_distributed_repository`]: enough to spread cases
/// over both workers and make search fan out, and 8 times cheaper to create than Citus's
/// default of 32 (the suite creates a repository per test).
const TEST_SHARD_COUNT: &str = "4";

/// Where the Citus scripts are unless `RENRAKU_CITUS_DIR` names another place: `shared/citus`
/// beside the repository's clone.
const DEFAULT_CITUS_DIR: &str = "../shared/citus";

impl TestServer {
    /// The coordinator of this test process's Citus cluster, found or started on first use:
    ///
    /// 1. `RENRAKU_CITUS_URL`, if it is set: a Citus coordinator with workers, where the
    ///    tests may create schemas (left behind; names start with `renraku_test_`);
    /// 2. otherwise a throwaway 3-node cluster (a coordinator and two workers, PostgreSQL 15)
    ///    started with `cluster-up.sh` from `RENRAKU_CITUS_DIR` (default `../shared/citus`;
    ///    a relative path is taken from the repository root) on free ports, in a temporary
    ///    directory. A watchdog stops it with `cluster-down.sh` and deletes its directory
    ///    when the test process ends. Starting takes about 10 to 15 seconds.
    ///
    /// Citus itself must be installed (`install.sh` in the same directory, as root).
    ///
    /// # Panics
    /// If there is no `RENRAKU_CITUS_URL` and no cluster can be started; the message says
    /// why, how to provide one, and how to leave these tests out (`-- --skip citus`).
    pub fn citus() -> &'static TestServer {
        static CITUS: OnceLock<Result<TestServer, String>> = OnceLock::new();
        let server = CITUS.get_or_init(|| match std::env::var("RENRAKU_CITUS_URL") {
            Ok(url) if !url.is_empty() => Ok(TestServer { url, cluster: None }),
            _ => start_citus().map(|url| TestServer { url, cluster: None }),
        });
        server.as_ref().unwrap_or_else(|why| panic!("{why}"))
    }
}

/// A repository in a schema of its own on the Citus cluster ([`TestServer::citus`]),
/// migrated and [distributed](PgContactRepository::distribute) with 4 shards per table, and
/// empty: the conformance suite and a host's own tests on distributed tables.
///
/// ```no_run
/// use renraku_postgres::testkit::fresh_distributed_repository;
///
/// # async fn run() {
/// let repo = fresh_distributed_repository(renraku_core::Rules::default()).await;
/// # }
/// ```
///
/// # Panics
/// If there is no cluster (see [`TestServer::citus`]), or migrating or distributing fails.
pub async fn fresh_distributed_repository(rules: Rules) -> PgContactRepository {
    fresh_distributed_repository_with(rules, super::identity).await
}

/// [`fresh_distributed_repository`], with more options set by `configure`.
///
/// # Panics
/// As [`fresh_distributed_repository`].
pub async fn fresh_distributed_repository_with(
    rules: Rules,
    configure: impl FnOnce(super::Builder) -> super::Builder,
) -> PgContactRepository {
    let options = TestServer::citus().url().parse::<PgConnectOptions>().expect("a valid URL");
    let options = options.options([("citus.shard_count", TEST_SHARD_COUNT)]);
    let pool = PgPoolOptions::new()
        .max_connections(20)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the Citus coordinator: {e}"));
    let builder = PgContactRepository::builder(pool)
        .schema(format!("renraku_test_{}", uuid::Uuid::now_v7().simple()))
        .rules(rules);
    let repo = configure(builder).build().expect("valid options");
    repo.migrate()
        .await
        .unwrap_or_else(|e| panic!("migration failed: {e}: {:?}", std::error::Error::source(&e)));
    repo.distribute()
        .await
        .unwrap_or_else(|e| panic!("distribute failed: {e}: {:?}", std::error::Error::source(&e)));
    repo
}

/// The directory of the Citus scripts.
fn citus_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.parent().unwrap_or(manifest);
    let dir = std::env::var_os("RENRAKU_CITUS_DIR")
        .filter(|dir| !dir.is_empty())
        .map_or_else(|| PathBuf::from(DEFAULT_CITUS_DIR), PathBuf::from);
    root.join(dir)
}

/// Starts a cluster with the shared scripts and returns its coordinator's URL.
fn start_citus() -> Result<String, String> {
    let scripts = citus_dir();
    let how = "set RENRAKU_CITUS_URL to a Citus coordinator, or RENRAKU_CITUS_DIR to the directory \
               of cluster-up.sh, or leave the Citus tests out with `cargo test -- --skip citus`";
    let (up, down) = (scripts.join("cluster-up.sh"), scripts.join("cluster-down.sh"));
    if !up.is_file() || !down.is_file() {
        return Err(format!(
            "no Citus cluster for the tests: no cluster-up.sh in {}; {how}",
            scripts.display()
        ));
    }
    let ports = free_ports()?;
    let dir =
        std::env::temp_dir().join(format!("renraku-citus-{}-{}", std::process::id(), uuid::Uuid::now_v7()));
    let script = |path: &Path, ports: &[u16]| {
        let mut command = Command::new("bash");
        command.arg(path).args(ports.iter().map(u16::to_string)).env("CITUS_CLUSTER_DIR", &dir);
        command
    };
    watch_this_process(&script(&down, &ports[..1]))?;
    let output = script(&up, &ports)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", up.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    match stdout.lines().last() {
        // Citus turns on TLS with a self-signed X.509 v1 certificate, which rustls refuses
        // (and sqlx's default `prefer` does not fall back from); the cluster is on loopback.
        Some(url) if output.status.success() && url.starts_with("postgres://") => {
            Ok(format!("{url}{}sslmode=disable", if url.contains('?') { '&' } else { '?' }))
        }
        _ => {
            let _ = script(&down, &ports[..1]).stdin(Stdio::null()).output();
            Err(format!(
                "no Citus cluster for the tests: {} failed ({}): {}{}; if Citus is not installed, \
                 run `sudo bash {}`; otherwise {how}",
                up.display(),
                output.status,
                stdout,
                String::from_utf8_lossy(&output.stderr),
                scripts.join("install.sh").display(),
            ))
        }
    }
}

/// Three free ports on loopback, for the coordinator and the workers.
fn free_ports() -> Result<[u16; 3], String> {
    let bind = || std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"));
    let listeners = [bind()?, bind()?, bind()?];
    let port = |l: &std::net::TcpListener| {
        l.local_addr().map(|a| a.port()).map_err(|e| format!("no free port: {e}"))
    };
    Ok([port(&listeners[0])?, port(&listeners[1])?, port(&listeners[2])?])
}

/// Starts a detached watchdog that runs `stop` once this process is gone.
fn watch_this_process(stop: &Command) -> Result<(), String> {
    let quote = |s: &std::ffi::OsStr| format!("'{}'", s.to_string_lossy().replace('\'', "'\\''"));
    let env: Vec<String> = stop
        .get_envs()
        .filter_map(|(key, value)| Some(format!("{}={}", key.to_string_lossy(), quote(value?))))
        .collect();
    let args: Vec<String> = stop.get_args().map(quote).collect();
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {env} {program} {args} >/dev/null 2>&1",
        pid = std::process::id(),
        env = env.join(" "),
        program = quote(stop.get_program()),
        args = args.join(" "),
    );
    super::spawn_watchdog(&script)
}
