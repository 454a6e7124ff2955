//! End to end in a real browser: headless Chromium driven over WebDriver (chromedriver)
//! signs in through the sign-in page, then creates, shows, edits, runs into a conflicting
//! edit, and deletes a contact by typing and clicking. Screenshots go to
//! `target/screenshots/`.
//!
//! It needs Debian's `chromium` and `chromium-driver`; without them it fails (it never
//! skips) and says how to install them.

#[path = "common/mod.rs"]
mod common;

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{Method, Request, StatusCode};
use fantoccini::error::CmdError;
use fantoccini::{Client, ClientBuilder, Locator};
use http_body_util::Full;
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use renraku_web::{AppState, Auth, JwtVerifier};

use common::{ISSUER, PUBLIC_KEY, store_under_test, token};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "chromedriver";

/// chromedriver, killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn require_browser() {
    let driver = Command::new(CHROMEDRIVER).arg("--version").output();
    let found = Path::new(CHROMIUM).exists() && driver.is_ok_and(|o| o.status.success());
    assert!(
        found,
        "the browser test needs {CHROMIUM} and {CHROMEDRIVER} (Debian packages chromium and chromium-driver): \
         run scripts/install-deps.sh"
    );
}

async fn start_chromedriver() -> Driver {
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts (scripts/install-deps.sh installs it)");
    let driver = Driver { child, url: format!("http://127.0.0.1:{port}") };
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return driver;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("chromedriver did not listen on port {port}");
}

fn capabilities(profile: &Path) -> fantoccini::wd::Capabilities {
    let mut caps = fantoccini::wd::Capabilities::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
                "--disable-dev-shm-usage",
                "--window-size=1200,1000",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    caps
}

/// Where screenshots go: `screenshots/` in the target directory.
fn screenshot_dir() -> PathBuf {
    let binary = Path::new(env!("CARGO_BIN_EXE_renraku-web"));
    let dir = binary.parent().and_then(Path::parent).expect("the target directory").join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn screenshot(client: &Client, name: &str) -> Result<PathBuf, CmdError> {
    let path = screenshot_dir().join(name);
    let png = client.screenshot().await?;
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    std::fs::write(&path, png).unwrap();
    Ok(path)
}

async fn main_text(client: &Client) -> Result<String, CmdError> {
    client.find(Locator::Css("main")).await?.text().await
}

/// Types into a field, replacing what it held.
async fn fill(client: &Client, id: &str, value: &str) -> Result<(), CmdError> {
    let field = client.find(Locator::Id(id)).await?;
    field.clear().await?;
    field.send_keys(value).await
}

/// Another user changes the phone number through the JSON API.
async fn change_phone_through_the_api(base: &str, path: &str) {
    let client: HttpClient<HttpConnector, Full<Bytes>> =
        HttpClient::builder(TokioExecutor::new()).build_http();
    let request = Request::builder()
        .method(Method::PATCH)
        .uri(format!("{base}/api{path}"))
        .header("authorization", format!("Bearer {}", token()))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(br#"{"phone": "+49 40 5550100"}"#)))
        .unwrap();
    let response = client.request(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

async fn walk(client: Client, base: String) -> Result<(), CmdError> {
    let case = format!("browser-{}", renraku_core::ContactId::new().to_string().split('-').next().unwrap());

    // Not signed in: the case page asks to sign in.
    client.goto(&format!("{base}/cases/{case}")).await?;
    assert!(main_text(&client).await?.contains("You need to sign in"));
    // The page's own link leads back here after signing in.
    client.find(Locator::Css("main a[href^='/session?next=']")).await?.click().await?;
    client.wait().for_element(Locator::Id("token")).await?.send_keys(&token()).await?;
    client.find(Locator::Css("main button[type=submit]")).await?.click().await?;

    // Back at the case, signed in by the cookie: it has no contacts yet.
    let text = client.wait().for_element(Locator::Css(".flash")).await?.text().await?;
    assert_eq!(text, "Signed in.");
    let page = main_text(&client).await?;
    assert!(page.contains(&format!("No contact data found for case #{case}")), "{page}");
    assert!(client.find(Locator::Css(".user")).await?.text().await?.contains("clerk-7"));

    // Create a contact by typing, with one mistake first.
    client.find(Locator::LinkText("Add contact")).await?.click().await?;
    fill(&client, "title", "Dr.").await?;
    fill(&client, "first_name", "Ada").await?;
    fill(&client, "last_name", "Lovelace").await?;
    fill(&client, "phone", "12").await?;
    fill(&client, "email", "ada@example.org").await?;
    client.find(Locator::Css("main button[type=submit]")).await?.click().await?;
    let error = client.wait().for_element(Locator::Id("phone-error")).await?.text().await?;
    assert!(error.contains("is not a valid phone number"), "{error}");
    let kept = client.find(Locator::Id("last_name")).await?.prop("value").await?;
    assert_eq!(kept.as_deref(), Some("Lovelace"), "the input is kept");
    fill(&client, "phone", "030 1234567").await?;
    client.find(Locator::Css("main button[type=submit]")).await?.click().await?;
    let flash = client.wait().for_element(Locator::Css(".flash")).await?.text().await?;
    assert_eq!(flash, "Contact created successfully.");

    // The show page.
    let url = client.current_url().await?;
    let contact_path = url.path().to_owned();
    assert!(contact_path.starts_with(&format!("/cases/{case}/contacts/")), "{url}");
    let page = main_text(&client).await?;
    assert!(page.contains("Dr. Ada Lovelace") && page.contains("+49301234567"), "{page}");
    screenshot(&client, "web-show.png").await?;

    // Edit.
    client.find(Locator::LinkText("Edit")).await?.click().await?;
    fill(&client, "last_name", "King").await?;
    fill(&client, "relationship", "colleague").await?;
    client.find(Locator::Css("main button[type=submit]")).await?.click().await?;
    let flash = client.wait().for_element(Locator::Css(".flash")).await?.text().await?;
    assert_eq!(flash, "Contact updated successfully.");
    assert!(main_text(&client).await?.contains("Dr. Ada King"));

    // A conflicting edit: the form is loaded, someone else saves first, then we submit.
    client.find(Locator::LinkText("Edit")).await?.click().await?;
    fill(&client, "address", "St James's Square").await?;
    change_phone_through_the_api(&base, &contact_path).await;
    client.find(Locator::Css("main button[type=submit]")).await?.click().await?;
    let heading = client.wait().for_element(Locator::Css("main h1")).await?.text().await?;
    assert_eq!(heading, "This contact was changed in the meantime");
    let page = main_text(&client).await?;
    assert!(page.contains("Nothing was saved") && page.contains("+49 40 5550100"), "{page}");
    assert!(page.contains("St James's Square"), "what we typed is shown");
    let conflict = screenshot(&client, "web-conflict.png").await?;

    // Nothing was overwritten: the show page has the other user's phone and no address.
    client.find(Locator::LinkText("Back to the contact")).await?.click().await?;
    let page = main_text(&client).await?;
    assert!(page.contains("+49 40 5550100") && !page.contains("St James"), "{page}");

    // Delete, through the confirmation page.
    client.find(Locator::LinkText("Delete")).await?.click().await?;
    assert!(main_text(&client).await?.contains("This action cannot be reverted."));
    client.find(Locator::Css("main button[type=submit]")).await?.click().await?;
    let flash = client.wait().for_element(Locator::Css(".flash")).await?.text().await?;
    assert_eq!(flash, "Contact deleted successfully.");
    assert_eq!(client.current_url().await?.path(), format!("/cases/{case}"));
    assert!(main_text(&client).await?.contains("No contact data found"));
    let deleted = screenshot(&client, "web-deleted.png").await?;

    // No script ever reached the browser.
    assert!(!client.source().await?.contains("<script"));
    eprintln!("screenshots: {} {}", conflict.display(), deleted.display());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_creates_edits_conflicts_and_deletes_in_chromium() {
    require_browser();
    let verifier = JwtVerifier::from_rsa_pem(PUBLIC_KEY, ISSUER).unwrap();
    let state = AppState::new(store_under_test().await, Auth::Jwt(verifier));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, renraku_web::app(state)).await.unwrap() });

    let driver = start_chromedriver().await;
    let profile = tempfile::tempdir().unwrap();
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities(profile.path()))
        .connect(&driver.url)
        .await
        .expect("a Chromium session (scripts/install-deps.sh installs chromium and chromium-driver)");

    // The walk runs as its own task so that a failed assertion (a panic) still lets us end
    // the browser session below.
    let outcome = tokio::spawn(walk(client.clone(), base)).await;
    if !matches!(outcome, Ok(Ok(()))) {
        // Show where it went wrong.
        if let Ok(path) = screenshot(&client, "web-failure.png").await {
            eprintln!("failure screenshot: {}", path.display());
        }
        if let (Ok(url), Ok(text)) = (client.current_url().await, main_text(&client).await) {
            eprintln!("at {url}:\n{text}");
        }
    }
    let closed = client.close().await;
    match outcome {
        Ok(result) => result.expect("the browser walk"),
        Err(panic) => std::panic::resume_unwind(panic.into_panic()),
    }
    closed.expect("the browser session closes");
}
