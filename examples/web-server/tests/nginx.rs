//! The README's nginx configuration, `deploy/nginx.conf`, run by Debian's nginx in front of
//! the `renraku-web` binary, and spoken to over HTTPS by `curl`: the redirect to HTTPS,
//! the heartbeat over HTTP/2, signing in with a `Secure` session cookie, a create through the
//! API, nginx's 413 for an oversized body, and an access log without query strings.
//!
//! The file is used as it is, with only its addresses and paths replaced (the ports, the
//! certificate made here by `openssl`, the access log): every directive of it runs. It
//! needs `nginx`, `curl` and `openssl` (`scripts/install-deps.sh`), and fails without them.

#[path = "common/binary.rs"]
mod binary;
#[path = "common/mod.rs"]
mod common;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const CONFIG: &str = include_str!("../deploy/nginx.conf");
const HOST: &str = "renraku.example.org";

/// A child process that is stopped when the test ends, however it ends: SIGTERM (nginx's
/// master then stops its workers, which would outlive a SIGKILL), then SIGKILL after 10 s.
struct Running(Child);

impl Running {
    /// Sends SIGTERM and waits up to 10 s for the exit.
    fn terminate(&mut self) -> Option<ExitStatus> {
        if let Some(status) = self.0.try_wait().unwrap() {
            return Some(status);
        }
        let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).stderr(Stdio::null()).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(status) = self.0.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.terminate().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Starts the binary on a free port and returns it with the port.
fn start_renraku_web() -> (binary::Process, u16) {
    let key = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/test-public.pem");
    let mut app = binary::Process::start(&[
        ("RENRAKU_LISTEN", "127.0.0.1:0"),
        ("RENRAKU_JWT_PUBLIC_KEY", key),
        ("RENRAKU_SECURE_COOKIES", "true"),
    ]);
    let base = app.base_url();
    let port = base.rsplit(':').next().and_then(|port| port.parse().ok()).expect("a port in the URL");
    (app, port)
}

/// A program the test needs: on `PATH`, or in `/usr/sbin` (nginx, for users without it on
/// their `PATH`).
fn program(name: &str) -> PathBuf {
    let paths = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&paths)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!("{name} is missing: this test runs Debian's nginx with curl and openssl; install them with scripts/install-deps.sh")
        })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `deploy/nginx.conf` with its addresses and paths replaced, each exactly once.
fn configuration(dir: &Path, http: u16, https: u16, app: u16) -> String {
    let path = |name: &str| dir.join(name).display().to_string();
    let replacements = [
        ("listen 80;", format!("listen 127.0.0.1:{http};")),
        ("listen 443 ssl http2;", format!("listen 127.0.0.1:{https} ssl http2;")),
        ("server 127.0.0.1:4000;", format!("server 127.0.0.1:{app};")),
        ("/etc/letsencrypt/live/renraku.example.org/fullchain.pem", path("cert.pem")),
        ("/etc/letsencrypt/live/renraku.example.org/privkey.pem", path("key.pem")),
        ("/var/log/nginx/renraku.log", path("access.log")),
    ];
    let mut config = CONFIG.to_owned();
    for (from, to) in replacements {
        assert_eq!(config.matches(from).count(), 1, "deploy/nginx.conf should contain {from:?} once");
        config = config.replace(from, &to);
    }
    config
}

/// The top level nginx needs around the file: it goes inside `http { }`, as in Debian's
/// `/etc/nginx/nginx.conf`, with every path in the test's directory.
fn main_configuration(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n\
             client_body_temp_path {d}/client_body;\n    proxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fastcgi;\n    uwsgi_temp_path {d}/uwsgi;\n    scgi_temp_path {d}/scgi;\n\
             include {d}/renraku.conf;\n\
         }}\n"
    )
}

fn run(command: &mut Command) -> String {
    let output = command.output().expect("the command runs");
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{command:?} failed:\n{text}");
    text
}

/// A response as curl saw it.
#[derive(Debug)]
struct Reply {
    /// The status line, such as `HTTP/2 204`.
    status_line: String,
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }

    /// The `Set-Cookie` of the cookie `name`, whole.
    fn set_cookie(&self, name: &str) -> &str {
        self.header("set-cookie")
            .into_iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} cookie in {self:#?}"))
    }
}

/// curl with `renraku.example.org` resolved to 127.0.0.1 and the certificate checked
/// against the test's own.
struct Curl {
    curl: PathBuf,
    cert: PathBuf,
    http: u16,
    https: u16,
}

impl Curl {
    /// A request to `https://renraku.example.org:{https}{path}`, over HTTP/2.
    fn https(&self, path: &str, args: &[&str]) -> Reply {
        self.request(&format!("https://{HOST}:{}{path}", self.https), &[&["--http2"], args].concat())
    }

    /// A request to `http://renraku.example.org:{http}{path}`.
    fn http(&self, path: &str) -> Reply {
        self.request(&format!("http://{HOST}:{}{path}", self.http), &[])
    }

    fn request(&self, url: &str, args: &[&str]) -> Reply {
        let output = Command::new(&self.curl)
            .args(["-sS", "-i", "--max-time", "20", "--cacert"])
            .arg(&self.cert)
            .args(["--resolve", &format!("{HOST}:{}:127.0.0.1", self.http)])
            .args(["--resolve", &format!("{HOST}:{}:127.0.0.1", self.https)])
            .args(args)
            .arg(url)
            .output()
            .expect("curl runs");
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        let error = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "curl {url} {args:?}: {error}{text}");
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut lines = head.lines();
        let status_line = lines.next().unwrap().trim().to_owned();
        let status = status_line.split_whitespace().nth(1).unwrap().parse().unwrap();
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
            .collect();
        Reply { status_line, status, headers, body: body.to_owned() }
    }
}

#[test]
fn nginx_with_the_readme_config_in_front_of_the_binary() {
    let (nginx, curl, openssl) = (program("nginx"), program("curl"), program("openssl"));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // nginx's workers (`nobody` when the test runs as root) must reach the temporary paths.
    std::fs::set_permissions(d, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let certificate = format!(
        "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN={HOST} \
         -addext subjectAltName=DNS:{HOST} -keyout key.pem -out cert.pem"
    );
    run(Command::new(openssl).current_dir(d).args(certificate.split_whitespace()));

    let (mut app, app_port) = start_renraku_web();
    let (http, https) = (free_port(), free_port());
    std::fs::write(d.join("renraku.conf"), configuration(d, http, https, app_port)).unwrap();
    std::fs::write(d.join("nginx.conf"), main_configuration(d)).unwrap();
    let nginx_args = |command: &mut Command| {
        command.arg("-p").arg(d).arg("-c").arg(d.join("nginx.conf")).arg("-e").arg(d.join("error.log"));
    };
    let mut test = Command::new(&nginx);
    nginx_args(test.arg("-t"));
    let checked = run(&mut test);
    assert!(checked.contains("test is successful"), "{checked}");
    let mut start = Command::new(&nginx);
    nginx_args(&mut start);
    let mut proxy = Running(
        start.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("nginx starts"),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", https)).is_err() {
        let log = std::fs::read_to_string(d.join("error.log")).unwrap_or_default();
        assert!(Instant::now() < deadline, "nginx does not listen on {https}:\n{log}");
        std::thread::sleep(Duration::from_millis(50));
    }

    let curl = Curl { curl, cert: d.join("cert.pem"), http, https };

    // Port 80 only redirects, and no response names nginx's version.
    let plain = curl.http("/api/heartbeat");
    assert_eq!(plain.status, 301, "{plain:#?}");
    assert_eq!(plain.header("location"), [format!("https://{HOST}/api/heartbeat")]);
    assert_eq!(plain.header("server"), ["nginx"], "server_tokens off");

    let heartbeat = curl.https("/api/heartbeat", &[]);
    assert_eq!(heartbeat.status_line, "HTTP/2 204", "{heartbeat:#?}");
    assert_eq!(heartbeat.header("strict-transport-security"), ["max-age=63072000"]);
    // The app's headers arrive once.
    assert_eq!(heartbeat.header("x-content-type-options"), ["nosniff"]);
    assert_eq!(heartbeat.header("content-security-policy").len(), 1);
    assert_eq!(heartbeat.header("server"), ["nginx"]);

    // Sign in over HTTPS: the cookies are Secure.
    let form = curl.https("/session", &[]);
    assert_eq!(form.status, 200, "{form:#?}");
    // Secure cookies carry the `__Host-` prefix: no subdomain or plain-HTTP page can set them.
    let csrf_cookie = form.set_cookie("__Host-renraku_csrf");
    assert!(csrf_cookie.contains("; Secure"), "{csrf_cookie}");
    let csrf = csrf_cookie.split(';').next().unwrap().to_owned();
    let csrf_value = common::form_token(&form.body);
    let signed_in = curl.https(
        "/session",
        &[
            "--cookie",
            &csrf,
            "--data-urlencode",
            &format!("csrf_token={csrf_value}"),
            "--data-urlencode",
            &format!("token={}", common::token()),
            "--data-urlencode",
            "next=/",
        ],
    );
    assert_eq!(signed_in.status, 303, "{signed_in:#?}");
    let session_cookie = signed_in.set_cookie("__Host-renraku_session");
    assert!(session_cookie.contains("; Secure") && session_cookie.contains("; HttpOnly"), "{session_cookie}");
    let session = session_cookie.split(';').next().unwrap();
    let home = curl.https("/", &["--cookie", &format!("{csrf}; {session}")]);
    assert_eq!(home.status, 200);
    assert!(home.body.contains(common::USER), "signed in as the token's user: {}", home.body);

    // A create through the API, and the contact read back through the proxy.
    let auth = format!("authorization: Bearer {}", common::token());
    let json = "content-type: application/json";
    let created = curl.https(
        "/api/cases/nginx-1/contacts",
        &["-H", &auth, "-H", json, "--data-binary", r#"{"first_name": "Ada", "phone": "030 1234567"}"#],
    );
    assert_eq!(created.status, 201, "{created:#?}");
    let location = created.header("location")[0].to_owned();
    let fetched = curl.https(&location, &["-H", &auth]);
    assert_eq!(fetched.status, 200, "{fetched:#?}");
    assert!(fetched.body.contains("+49301234567"), "{}", fetched.body);
    let listed = curl.https("/api/cases/nginx-1/contacts?limit=5", &["-H", &auth]);
    assert_eq!(listed.status, 200, "{listed:#?}");

    // Above 64 KiB, nginx answers 413 itself.
    let body = format!(r#"{{"first_name": "{}"}}"#, "x".repeat(100 * 1024));
    std::fs::write(d.join("big.json"), body).unwrap();
    let too_big = curl.https(
        "/api/cases/nginx-1/contacts",
        &["-H", &auth, "-H", json, "--data-binary", &format!("@{}", d.join("big.json").display())],
    );
    assert_eq!(too_big.status, 413, "{too_big:#?}");
    assert_eq!(too_big.header("server"), ["nginx"]);

    // A CSV import may be up to 4 MiB: nginx passes 100 KiB on (the app refuses this one:
    // it carries no CSRF token).
    let import = format!(
        "--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n{}\r\n--b--\r\n",
        "x".repeat(100 * 1024)
    );
    std::fs::write(d.join("import.bin"), import).unwrap();
    let imported = curl.https(
        "/cases/nginx-1/import",
        &[
            "-H",
            &auth,
            "-H",
            "Content-Type: multipart/form-data; boundary=b",
            "--data-binary",
            &format!("@{}", d.join("import.bin").display()),
        ],
    );
    assert_eq!(imported.status, 403, "{imported:#?}");

    // The access log has the requests, never their query strings.
    let access = std::fs::read_to_string(d.join("access.log")).unwrap();
    assert!(access.contains("\"GET /api/cases/nginx-1/contacts\" 200"), "{access}");
    assert!(access.contains("\" 413 "), "{access}");
    assert!(!access.contains("limit=5"), "{access}");

    // SIGTERM: the server stops gracefully, and every request but the oversized one reached it.
    let nginx_exit = proxy.terminate().expect("nginx stops on SIGTERM");
    assert!(nginx_exit.success(), "nginx: {nginx_exit:?}");
    app.signal("TERM");
    let exit = app.wait();
    assert!(exit.success(), "{exit:?}:\n{}", app.output());
    let requests = app.output().lines().filter(|line| line.contains("status=")).count();
    assert_eq!(requests, 8, "{}", app.output());
}
