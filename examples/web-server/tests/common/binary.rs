//! The server binary as a process, and HTTP clients over real TCP: hyper's, and a raw
//! socket for what a well-behaved client never does (slow heads, lying lengths).
#![allow(dead_code, unreachable_pub)] // every test binary uses a different part

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

pub const BIN: &str = env!("CARGO_BIN_EXE_renraku-web");

/// The server binary, run with only the given environment.
pub struct Process {
    child: Child,
    lines: mpsc::Receiver<String>,
    output: Vec<String>,
}

impl Process {
    pub fn start(env: &[(&str, &str)]) -> Self {
        Self::spawn(Command::new(BIN), env)
    }

    /// The binary under `ulimit -n open_files` (a shell sets the limit, then becomes it).
    pub fn start_with_open_files(open_files: u32, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new("sh");
        command.args(["-c", &format!("ulimit -n {open_files} && exec \"$0\""), BIN]);
        Self::spawn(command, env)
    }

    fn spawn(mut command: Command, env: &[(&str, &str)]) -> Self {
        let mut child = command
            .env_clear()
            .env("RUST_LOG", "info")
            .env("PATH", "/usr/bin:/bin")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the renraku-web binary starts");
        let (send, lines) = mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let send = send.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = send.send(line);
                }
            });
        }
        Self { child, lines, output: Vec::new() }
    }

    /// Collects the lines logged so far.
    pub fn drain(&mut self) {
        while let Ok(line) = self.lines.try_recv() {
            self.output.push(line);
        }
    }

    /// Waits for a line containing `needle` and returns it.
    pub fn wait_for(&mut self, needle: &str) -> String {
        self.wait_for_within(needle, Duration::from_secs(30))
    }

    /// Waits at most `patience` for a line containing `needle` and returns it.
    pub fn wait_for_within(&mut self, needle: &str, patience: Duration) -> String {
        let deadline = Instant::now() + patience;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.output.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => break,
            }
        }
        panic!("no line with {needle:?}; output so far:\n{}", self.output.join("\n"));
    }

    /// The base URL the server listens on, from its log.
    pub fn base_url(&mut self) -> String {
        let line = self.wait_for("listening on http://");
        let start = line.find("http://").unwrap();
        line[start..].split_whitespace().next().unwrap().to_owned()
    }

    /// The process id of the server.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    pub fn signal(&self, name: &str) {
        let status =
            Command::new("kill").args([format!("-{name}"), self.child.id().to_string()]).status().unwrap();
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits for the process to exit and collects the rest of its output.
    pub fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Give the reader threads a moment to pass on the last lines.
                while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
                    self.output.push(line);
                }
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not exit:\n{}", self.output.join("\n"));
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn output(&self) -> String {
        self.output.join("\n")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP/1 client over TCP.
pub struct Http {
    client: Client<HttpConnector, Full<Bytes>>,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Http {
    pub fn new() -> Self {
        Self { client: Client::builder(TokioExecutor::new()).build_http() }
    }

    pub async fn send(&self, method: Method, url: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        self.try_send(method, url, headers, body).await.expect("the server answers")
    }

    /// A request whose answer may not come (the connection fails): `None` then.
    pub async fn try_send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Option<Reply> {
        let mut request = Request::builder().method(method).uri(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(Bytes::from(body.to_owned()))).unwrap();
        let response = self.client.request(request).await.ok()?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.ok()?.to_bytes();
        let reply = Reply {
            status: parts.status,
            headers: parts.headers,
            body: String::from_utf8(body.to_vec()).unwrap(),
        };
        assert!(reply.headers.contains_key(header::CONTENT_SECURITY_POLICY));
        assert!(!reply.body.contains("<script"));
        Some(reply)
    }

    pub async fn get(&self, url: &str, headers: &[(&str, &str)]) -> Reply {
        self.send(Method::GET, url, headers, "").await
    }
}

/// The `name=value` of a `Set-Cookie` of `reply`.
pub fn cookie_pair(reply: &Reply, name: &str) -> String {
    reply
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie"))
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// A raw HTTP/1.1 connection, for clients that misbehave on purpose.
pub struct Raw {
    pub stream: TcpStream,
    pub opened: Instant,
}

/// A response read off a raw connection.
#[derive(Debug)]
pub struct RawReply {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl RawReply {
    /// The value of a header (names compared without case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    /// Checks the security headers that every response of the server carries.
    #[track_caller]
    pub fn assert_security_headers(&self) {
        let csp =
            self.header("content-security-policy").unwrap_or_else(|| panic!("no CSP in\n{}", self.head));
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert_eq!(self.header("x-content-type-options"), Some("nosniff"), "{}", self.head);
        assert_eq!(self.header("x-frame-options"), Some("DENY"), "{}", self.head);
        assert_eq!(self.header("referrer-policy"), Some("no-referrer"), "{}", self.head);
    }
}

impl Raw {
    /// Connects to `base` (`http://host:port`).
    pub fn connect(base: &str) -> Self {
        let address = base.trim_start_matches("http://");
        let stream = TcpStream::connect(address).unwrap_or_else(|e| panic!("connect to {address}: {e}"));
        Self { stream, opened: Instant::now() }
    }

    pub fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Reads one response (its body by `Content-Length`), waiting at most `limit`; `None`
    /// if the connection closed or nothing whole came in time.
    pub fn response(&mut self, limit: Duration) -> Option<RawReply> {
        let deadline = Instant::now() + limit;
        let mut data = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&data[..end]).into_owned();
                let status = head.split_whitespace().nth(1)?.parse().ok()?;
                let mut reply = RawReply { status, head, body: String::new() };
                let length: usize = reply.header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
                while data.len() < end + 4 + length {
                    let left = deadline.checked_duration_since(Instant::now())?;
                    self.stream.set_read_timeout(Some(left.max(Duration::from_millis(1)))).unwrap();
                    match self.stream.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => data.extend_from_slice(&chunk[..n]),
                    }
                }
                reply.body = String::from_utf8_lossy(&data[end + 4..]).into_owned();
                return Some(reply);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            self.stream.set_read_timeout(Some(left.max(Duration::from_millis(1)))).unwrap();
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => data.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Waits up to `limit` for the server to close the connection (an end of file or a
    /// reset); how long after opening it was closed, or `None` if it is still open.
    pub fn closed_within(&mut self, limit: Duration) -> Option<Duration> {
        let deadline = Instant::now() + limit;
        let mut chunk = [0u8; 4096];
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            self.stream.set_read_timeout(Some(left.max(Duration::from_millis(1)))).unwrap();
            match self.stream.read(&mut chunk) {
                Ok(0) => return Some(self.opened.elapsed()),
                Ok(_) => {}
                Err(e)
                    if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) =>
                {
                    return None;
                }
                Err(_) => return Some(self.opened.elapsed()),
            }
        }
    }

    /// Whether the server answered or closed the connection already (without waiting):
    /// `Some(first bytes)` if it did, `None` while it waits for the client.
    pub fn answered(&mut self) -> Option<String> {
        self.stream.set_nonblocking(true).unwrap();
        let mut chunk = [0u8; 64];
        let result = match self.stream.read(&mut chunk) {
            Ok(n) => Some(String::from_utf8_lossy(&chunk[..n]).into_owned()),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => None,
            Err(e) => Some(format!("error: {e}")),
        };
        self.stream.set_nonblocking(false).unwrap();
        result
    }
}

/// A complete `GET` of `path` on a keep-alive connection.
pub fn get_request(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").into_bytes()
}
