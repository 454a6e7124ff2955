//! TLS to PostgreSQL, through the code path of the binary (`Config` from flags, then
//! `open_store`): a throwaway server that accepts TLS connections only (`hostssl` lines
//! alone in its `pg_hba.conf`), with a CA and a server certificate made here by the
//! `openssl` CLI. `sslmode=verify-full` with the right CA connects; a wrong CA, a host name
//! the certificate does not name, and `sslmode=disable` are refused.
//!
//! The test names contain `postgres`: `-- --skip postgres` leaves them out on a machine
//! without PostgreSQL. They need the `openssl` CLI (`scripts/install-deps.sh`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use clap::Parser as _;
use renraku_core::{Actor, ContactRepository, NewContact};
use renraku_postgres::testkit::{ClusterConfig, TestServer};
use renraku_web::{Config, open_store};

/// The server that requires TLS, and the certificates of the tests.
struct Tls {
    server: TestServer,
    /// The CA that issued the server's certificate.
    ca: PathBuf,
    /// A CA that did not.
    other_ca: PathBuf,
    _dir: tempfile::TempDir,
}

/// Runs `openssl` with `args` (split at whitespace) in `dir`.
fn openssl(dir: &Path, args: &str) {
    let output = Command::new("openssl")
        .args(args.split_whitespace())
        .current_dir(dir)
        .output()
        .expect("the openssl CLI runs (scripts/install-deps.sh installs it)");
    assert!(
        output.status.success(),
        "openssl {args}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A new P-256 key and a certificate: `{name}.key`, `{name}.crt`, valid for two days.
const NEW_CERTIFICATE: &str = "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2";

/// A self-signed CA, `{name}.crt` and `{name}.key` in `dir`.
fn make_ca(dir: &Path, name: &str) -> PathBuf {
    openssl(
        dir,
        &format!("{NEW_CERTIFICATE} -subj /CN=renraku-test-{name} -keyout {name}.key -out {name}.crt"),
    );
    dir.join(format!("{name}.crt"))
}

fn tls() -> &'static Tls {
    static TLS: OnceLock<Tls> = OnceLock::new();
    TLS.get_or_init(|| {
        // In target/tmp: a static is never dropped, so the directory stays behind.
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let ca = make_ca(dir.path(), "ca");
        let other_ca = make_ca(dir.path(), "other-ca");
        // The server's certificate, issued by `ca`, for the name `localhost` only.
        openssl(
            dir.path(),
            &format!(
                "{NEW_CERTIFICATE} -subj /CN=localhost -CA ca.crt -CAkey ca.key \
                 -addext subjectAltName=DNS:localhost -addext basicConstraints=critical,CA:FALSE \
                 -addext extendedKeyUsage=serverAuth -keyout server.key -out server.crt"
            ),
        );
        let read = |name: &str| std::fs::read(dir.path().join(name)).unwrap();
        let server = TestServer::start_with(
            ClusterConfig::default()
                .file("server.crt", read("server.crt"))
                .file("server.key", read("server.key"))
                .setting("ssl", "on")
                .hba("hostssl all all 127.0.0.1/32 trust\nhostssl all all ::1/128 trust\n"),
        );
        Tls { server, ca, other_ca, _dir: dir }
    })
}

/// The test server's URL with another host and query.
fn url(host: &str, query: &str) -> String {
    let url = tls().server.url().replace("127.0.0.1", host);
    format!("{url}?{query}")
}

/// What the binary does with `DATABASE_URL` set to `url`.
async fn open(url: &str) -> anyhow::Result<Arc<dyn ContactRepository>> {
    let config = Config::try_parse_from(["renraku-web", "--disable-auth", "--database-url", url])?;
    Ok(open_store(&config).await?.repository)
}

async fn refused(url: &str) -> String {
    match open(url).await {
        Ok(_) => panic!("connected with {url}"),
        Err(err) => format!("{err:#}"),
    }
}

#[tokio::test]
async fn postgres_verify_full_with_the_servers_ca_connects() {
    let ca = tls().ca.display().to_string();
    let store = open(&url("localhost", &format!("sslmode=verify-full&sslrootcert={ca}")))
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let input = NewContact { first_name: Some("Ada".into()), ..NewContact::default() };
    let contact = store.create(&"tls-1".parse().unwrap(), input, &Actor::new("tls").unwrap()).await.unwrap();
    assert_eq!(contact.first_name.as_deref(), Some("Ada"));
}

#[tokio::test]
async fn postgres_verify_full_with_another_ca_is_refused() {
    let other = tls().other_ca.display().to_string();
    let why = refused(&url("localhost", &format!("sslmode=verify-full&sslrootcert={other}"))).await;
    assert!(why.contains("UnknownIssuer"), "{why}");
}

#[tokio::test]
async fn postgres_verify_full_refuses_a_certificate_for_another_host() {
    let ca = tls().ca.display().to_string();
    // The certificate names `localhost`, not `127.0.0.1`: the chain is right, the name is not.
    let why = refused(&url("127.0.0.1", &format!("sslmode=verify-full&sslrootcert={ca}"))).await;
    assert!(why.contains("not valid for name"), "{why}");
    // verify-ca checks the chain only.
    open(&url("127.0.0.1", &format!("sslmode=verify-ca&sslrootcert={ca}"))).await.unwrap();
}

#[tokio::test]
async fn postgres_sslmode_disable_is_refused_by_a_server_that_requires_tls() {
    let why = refused(&url("localhost", "sslmode=disable")).await;
    assert!(why.contains("no pg_hba.conf entry") && why.contains("no encryption"), "{why}");
}
