//! A PostgreSQL server for tests, found or started on demand, and fresh repositories on it.
//!
//! [`TestServer::shared`] finds the server the tests of one process use:
//!
//! 1. `DATABASE_URL`, if it is set;
//! 2. otherwise a throwaway cluster started from this machine's PostgreSQL binaries
//!    (`initdb` and `pg_ctl` on `PATH`, or the newest `/usr/lib/postgresql/*/bin`) in a
//!    temporary directory, on a free port, with `fsync` off. As root it runs them as the
//!    `postgres` user, because PostgreSQL refuses to run as root. A watchdog stops the
//!    cluster and deletes its directory when the test process ends.
//!
//! If neither works, it fails with a message that says how to provide a server. Each
//! [`fresh_repository`] gets a schema of its own, so tests run in parallel; the schemas of
//! a throwaway cluster vanish with it, those on a `DATABASE_URL` server are left behind
//! (names start with `renraku_test_`).
//!
//! Use [`TestServer::start`] for a private cluster that a test may stop, crash, freeze and
//! start again, and [`TestServer::start_with`] for one with extra settings, files and a `pg_hba.conf`
//! of its own (a server that requires TLS, for example: see [`ClusterConfig`]).
//!
//! [`TestServer::citus`] and [`fresh_distributed_repository`] do the same on a 3-node Citus
//! cluster (`RENRAKU_CITUS_URL`, or one started with the scripts in `RENRAKU_CITUS_DIR`),
//! with the tables [distributed](crate::PgContactRepository::distribute).
//!
//! ```no_run
//! use renraku_postgres::testkit::fresh_repository;
//!
//! # async fn run() {
//! let repo = fresh_repository(renraku_core::Rules::default()).await;
//! # }
//! ```

#![allow(clippy::missing_panics_doc)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use renraku_core::Rules;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::PgContactRepository;

mod citus;
pub use citus::{fresh_distributed_repository, fresh_distributed_repository_with};

/// A PostgreSQL server the tests can reach.
#[derive(Debug)]
pub struct TestServer {
    url: String,
    cluster: Option<Cluster>,
}

/// What a private cluster of [`TestServer::start_with`] gets besides the defaults: files in
/// its data directory, settings appended to its `postgresql.conf`, and a `pg_hba.conf`
/// that replaces initdb's (which trusts every local connection).
///
/// The port, `listen_addresses = '127.0.0.1'` and the durability settings the testkit passes
/// (`fsync`, `synchronous_commit` and `full_page_writes` off, unless
/// [`synchronous_commit`](Self::synchronous_commit)) on the command line win over settings given here. Relative paths in settings are
/// relative to the data directory, where [`file`](Self::file) puts its files.
///
/// A server that accepts TLS connections only (`server.crt` and `server.key` are
/// PostgreSQL's default names for `ssl_cert_file` and `ssl_key_file`):
///
/// ```no_run
/// use renraku_postgres::testkit::{ClusterConfig, TestServer};
///
/// # fn run(certificate_pem: &[u8], key_pem: &[u8]) {
/// let server = TestServer::start_with(
///     ClusterConfig::default()
///         .file("server.crt", certificate_pem)
///         .file("server.key", key_pem)
///         .setting("ssl", "on")
///         .hba("hostssl all all 127.0.0.1/32 trust\n"),
/// );
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct ClusterConfig {
    files: Vec<(String, Vec<u8>)>,
    settings: Vec<(String, String)>,
    hba: Option<String>,
    synchronous_commit: bool,
}

impl ClusterConfig {
    /// Writes `contents` to `name` in the data directory, owned by the server's user with
    /// mode 0600 (as PostgreSQL wants of a private key).
    #[must_use]
    pub fn file(mut self, name: impl Into<String>, contents: impl Into<Vec<u8>>) -> Self {
        self.files.push((name.into(), contents.into()));
        self
    }

    /// Appends `name = 'value'` to `postgresql.conf`.
    #[must_use]
    pub fn setting(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.settings.push((name.into(), value.into()));
        self
    }

    /// Replaces `pg_hba.conf` with `contents`.
    #[must_use]
    pub fn hba(mut self, contents: impl Into<String>) -> Self {
        self.hba = Some(contents.into());
        self
    }

    /// Acknowledges a commit only once its WAL is written (`synchronous_commit = on`),
    /// which test clusters otherwise turn off for speed. A test that crashes the server
    /// ([`TestServer::crash`]) and expects every acknowledged commit to survive needs it:
    /// with `synchronous_commit = off` a crash loses the last acknowledged commits. `fsync`
    /// stays off: the WAL reaches the kernel, which outlives a crash of the server (not of
    /// the machine), and a start after the crash need not sync the whole data directory.
    #[must_use]
    pub fn synchronous_commit(mut self) -> Self {
        self.synchronous_commit = true;
        self
    }
}

/// A cluster this process started: where it lives and how to run its tools.
#[derive(Debug)]
struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
    synchronous_commit: bool,
}

impl TestServer {
    /// The server of this test process, found or started on first use.
    ///
    /// # Panics
    /// If there is no `DATABASE_URL` and no cluster can be started; the message says how to
    /// provide a server.
    pub fn shared() -> &'static TestServer {
        static SHARED: OnceLock<Result<TestServer, String>> = OnceLock::new();
        let server = SHARED.get_or_init(|| match std::env::var("DATABASE_URL") {
            Ok(url) if !url.is_empty() => Ok(TestServer { url, cluster: None }),
            _ => Self::try_start(),
        });
        server.as_ref().unwrap_or_else(|why| panic!("{why}"))
    }

    /// Starts a private throwaway cluster, for tests that stop and restart their server.
    ///
    /// # Panics
    /// If no cluster can be started; the message says why and what to install.
    #[must_use]
    pub fn start() -> TestServer {
        Self::start_with(ClusterConfig::default())
    }

    /// Starts a private throwaway cluster configured by `config`.
    ///
    /// # Panics
    /// If no cluster can be started; the message says why and what to install.
    #[must_use]
    pub fn start_with(config: ClusterConfig) -> TestServer {
        Self::try_start_with(&config).unwrap_or_else(|why| panic!("{why}"))
    }

    fn try_start() -> Result<TestServer, String> {
        Self::try_start_with(&ClusterConfig::default())
    }

    fn try_start_with(config: &ClusterConfig) -> Result<TestServer, String> {
        let bin = find_binaries().ok_or_else(|| {
            "no PostgreSQL server for the tests: set DATABASE_URL to a server the tests may \
             create schemas in, or install the PostgreSQL server binaries (initdb, pg_ctl), \
             for example with scripts/install-deps.sh"
                .to_owned()
        })?;
        let as_postgres = running_as_root();
        let dir =
            std::env::temp_dir().join(format!("renraku-pg-{}-{}", std::process::id(), uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        if as_postgres {
            run(Command::new("chown").arg("postgres:postgres").arg(&dir), "chown the cluster directory")?;
        }
        let port = free_port()?;
        let cluster = Cluster { dir, bin, port, as_postgres, synchronous_commit: config.synchronous_commit };
        cluster.init()?;
        cluster.configure(config)?;
        cluster.watch_this_process()?;
        cluster.start()?;
        let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        Ok(TestServer { url, cluster: Some(cluster) })
    }

    /// The connection URL.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A new pool on the server, of at most `max_connections`.
    ///
    /// # Panics
    /// If the server cannot be reached.
    pub async fn pool(&self, max_connections: u32) -> PgPool {
        PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(30))
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the test server: {e}"))
    }

    /// Stops the server (only a cluster this process started).
    ///
    /// # Panics
    /// If this server was not started by this process, or `pg_ctl` fails.
    pub fn stop(&self) {
        self.own_cluster().pg_ctl(&["stop", "-m", "fast", "-w"]).expect("pg_ctl stop");
    }

    /// Starts the server again after [`stop`](Self::stop), on the same port.
    ///
    /// # Panics
    /// If this server was not started by this process, or `pg_ctl` fails.
    pub fn restart(&self) {
        self.own_cluster().start().expect("pg_ctl start");
    }

    /// Stops the server as a crash would (`pg_ctl stop -m immediate`): every backend ends at
    /// once, nothing is checkpointed, and the next start recovers from the WAL. Start it
    /// again with [`restart`](Self::restart).
    ///
    /// # Panics
    /// If this server was not started by this process, or `pg_ctl` fails.
    pub fn crash(&self) {
        self.own_cluster().pg_ctl(&["stop", "-m", "immediate", "-w"]).expect("pg_ctl stop -m immediate");
    }

    /// Freezes the server: `SIGSTOP` to the postmaster and every process it started, so
    /// connections stay open but nothing answers (a hung host, a stalled disk). The server
    /// runs on when the returned guard is dropped or [`thawed`](Frozen::thaw), also when
    /// the test fails in between.
    ///
    /// # Panics
    /// If this server was not started by this process, or the processes cannot be found or
    /// signalled.
    #[must_use = "the server runs on as soon as the guard is dropped"]
    pub fn freeze(&self) -> Frozen<'_> {
        let postmaster = self.own_cluster().postmaster_pid();
        // The postmaster first, so that it forks no new backend while they are collected.
        signal(&[postmaster], "STOP");
        let mut pids = vec![postmaster];
        pids.extend(children_of(postmaster));
        let frozen = Frozen { pids, _server: self };
        signal(&frozen.pids[1..], "STOP");
        frozen
    }

    fn own_cluster(&self) -> &Cluster {
        self.cluster.as_ref().expect("only a cluster started by this process can be stopped and started")
    }
}

/// A server frozen by [`TestServer::freeze`]; dropping it lets the server run on.
#[derive(Debug)]
pub struct Frozen<'a> {
    pids: Vec<u32>,
    _server: &'a TestServer,
}

impl Frozen<'_> {
    /// The processes that were stopped: the postmaster, then its children.
    #[must_use]
    pub fn pids(&self) -> &[u32] {
        &self.pids
    }

    /// Lets the server run on (`SIGCONT`).
    pub fn thaw(self) {}
}

impl Drop for Frozen<'_> {
    fn drop(&mut self) {
        // No panic here: this also runs while a failing test unwinds.
        send_signal(&self.pids, "CONT");
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(cluster) = &self.cluster {
            // The watchdog would also do it when the process ends; a private cluster goes
            // as soon as its test is done.
            let _ = cluster.pg_ctl(&["stop", "-m", "immediate", "-w"]);
            let _ = std::fs::remove_dir_all(&cluster.dir);
        }
    }
}

impl Cluster {
    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn command(&self, tool: &str) -> Command {
        let tool = self.bin.join(tool);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(tool);
            command
        } else {
            Command::new(tool)
        }
    }

    fn init(&self) -> Result<(), String> {
        let mut initdb = self.command("initdb");
        initdb.arg("-D").arg(self.data()).args(["-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]);
        initdb.arg("--locale=C.UTF-8");
        run(&mut initdb, "initdb")
    }

    fn configure(&self, config: &ClusterConfig) -> Result<(), String> {
        let data = self.data();
        let write = |name: &str, contents: &[u8]| -> Result<(), String> {
            let path = data.join(name);
            std::fs::write(&path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .map_err(|e| format!("cannot chmod {}: {e}", path.display()))?;
            if self.as_postgres {
                run(Command::new("chown").arg("postgres:postgres").arg(&path), "chown a cluster file")?;
            }
            Ok(())
        };
        for (name, contents) in &config.files {
            write(name, contents)?;
        }
        if let Some(hba) = &config.hba {
            write("pg_hba.conf", hba.as_bytes())?;
        }
        if !config.settings.is_empty() {
            let conf = data.join("postgresql.conf");
            let mut text =
                std::fs::read_to_string(&conf).map_err(|e| format!("cannot read {}: {e}", conf.display()))?;
            text.push_str("\n# renraku testkit: ClusterConfig\n");
            for (name, value) in &config.settings {
                text.push_str(&format!("{name} = '{}'\n", value.replace('\'', "''")));
            }
            std::fs::write(&conf, text).map_err(|e| format!("cannot write {}: {e}", conf.display()))?;
        }
        Ok(())
    }

    fn start(&self) -> Result<(), String> {
        let synchronous_commit = if self.synchronous_commit { "on" } else { "off" };
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit={synchronous_commit} \
             -c full_page_writes=off -c max_connections=300",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("server.log");
        self.pg_ctl(&["start", "-w", "-t", "60", "-o", &options, "-l", &log.display().to_string()])
    }

    /// The postmaster's pid: the first line of `postmaster.pid` in the data directory.
    fn postmaster_pid(&self) -> u32 {
        let file = self.data().join("postmaster.pid");
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("cannot read {} (is the server running?): {e}", file.display()));
        text.lines().next().and_then(|pid| pid.trim().parse().ok()).expect("a pid in postmaster.pid")
    }

    fn pg_ctl(&self, args: &[&str]) -> Result<(), String> {
        run(self.command("pg_ctl").arg("-D").arg(self.data()).args(args), "pg_ctl")
    }

    /// Starts a detached watchdog that stops the cluster and removes its directory once this
    /// process is gone: a static server is never dropped, and a killed test never cleans up.
    fn watch_this_process(&self) -> Result<(), String> {
        let runner = if self.as_postgres { "runuser -u postgres -- " } else { "" };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
             {runner}'{pg_ctl}' -D '{data}' stop -m immediate >/dev/null 2>&1; rm -rf '{dir}'",
            pid = std::process::id(),
            pg_ctl = self.bin.join("pg_ctl").display(),
            data = self.data().display(),
            dir = self.dir.display(),
        );
        spawn_watchdog(&script)
    }
}

/// Runs `script` with `sh` in a session of its own, so that it outlives this process.
fn spawn_watchdog(script: &str) -> Result<(), String> {
    Command::new("setsid")
        .args(["sh", "-c", script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(drop)
        .map_err(|e| format!("cannot start the cluster watchdog: {e}"))
}

/// A repository in a schema of its own on the shared server, migrated and empty.
///
/// # Panics
/// If there is no server (see [`TestServer::shared`]) or the migration fails.
pub async fn fresh_repository(rules: Rules) -> PgContactRepository {
    fresh_repository_with(rules, identity).await
}

/// [`fresh_repository`], with more options set by `configure` (read audit, say).
///
/// ```no_run
/// # async fn run() {
/// use renraku_postgres::testkit::fresh_repository_with;
///
/// let repo = fresh_repository_with(renraku_core::Rules::default(), |b| b.read_audit(true)).await;
/// # }
/// ```
///
/// # Panics
/// As [`fresh_repository`].
pub async fn fresh_repository_with(
    rules: Rules,
    configure: impl FnOnce(Builder) -> Builder,
) -> PgContactRepository {
    fresh_repository_on(TestServer::shared(), rules, configure).await
}

/// The builder that `configure` functions take.
pub type Builder = crate::PgContactRepositoryBuilder;

/// Leaves a builder as it is: the `configure` of a plain fresh repository.
pub fn identity(builder: Builder) -> Builder {
    builder
}

/// A repository in a schema of its own on `server`, migrated and empty, with the options
/// `configure` sets.
///
/// # Panics
/// If the server cannot be reached or the migration fails.
pub async fn fresh_repository_on(
    server: &TestServer,
    rules: Rules,
    configure: impl FnOnce(Builder) -> Builder,
) -> PgContactRepository {
    let schema = format!("renraku_test_{}", uuid::Uuid::now_v7().simple());
    let builder = PgContactRepository::builder(server.pool(20).await).schema(schema).rules(rules);
    let repo = configure(builder).build().expect("valid options");
    repo.migrate()
        .await
        .unwrap_or_else(|e| panic!("migration failed: {e}: {:?}", std::error::Error::source(&e)));
    repo
}

/// The pids of the processes whose parent is `parent`, from `/proc/<pid>/stat`.
fn children_of(parent: u32) -> Vec<u32> {
    let entries = std::fs::read_dir("/proc").expect("/proc is readable");
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            // `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let after_comm = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
            after_comm.split_whitespace().nth(1).and_then(|ppid| ppid.parse::<u32>().ok()) == Some(parent)
        })
        .collect()
}

/// Sends `SIG<name>` to each of `pids`; whether every one got it.
fn send_signal(pids: &[u32], name: &str) -> bool {
    pids.is_empty()
        || Command::new("kill")
            .arg(format!("-{name}"))
            .args(pids.iter().map(u32::to_string))
            .status()
            .is_ok_and(|status| status.success())
}

/// Sends `SIG<name>` to each of `pids`, or panics.
fn signal(pids: &[u32], name: &str) {
    assert!(send_signal(pids, name), "kill -{name} {pids:?} failed");
}

fn find_binaries() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths).find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
    });
    on_path.or_else(|| {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
            .filter(|bin| bin.join("initdb").is_file() && bin.join("pg_ctl").is_file())
            .collect();
        versions.sort_by_key(|bin| version_of(bin));
        versions.pop()
    })
}

fn version_of(bin: &Path) -> u32 {
    bin.parent().and_then(|dir| dir.file_name()).and_then(|name| name.to_str()?.parse().ok()).unwrap_or(0)
}

fn running_as_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener.local_addr().map(|addr| addr.port()).map_err(|e| format!("no free port: {e}"))
}

fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let output = command.stdin(Stdio::null()).output().map_err(|e| format!("{what}: cannot run: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}
