//! End to end in a real browser: headless Chromium driven over WebDriver (chromedriver)
//! signs in through the sign-in page, then creates, shows, edits, runs into a conflicting
//! edit, saves over it knowingly, deletes a contact and erases the case, by typing,
//! clicking and pressing keys. Then a user who may read but not edit signs in: the pages
//! offer no edit or delete button, and a POST sent anyway answers 403.
//!
//! Every page state on the way is checked at desktop width (1280×900) and at phone width
//! (390×844, emulated as a phone through the DevTools protocol, so that a page wider than
//! the phone is zoomed out as on a real one): axe-core (WCAG 2.1 A and AA rules) must find
//! no violation, and the page must be no wider than the viewport. Screenshots go to
//! `target/screenshots/`, the case page, the form with errors and the conflict page at
//! phone width among them.
//!
//! It needs Debian's `chromium` and `chromium-driver`, and axe-core from npm in
//! `tests/axe/node_modules` (`npm ci` there); `scripts/install-deps.sh` installs all three.
//! Without them it fails (it never skips) and says how to install them.

#[path = "common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{Method, Request, StatusCode};
use fantoccini::error::CmdError;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use renraku_web::{AppState, Auth, JwtVerifier};
use serde_json::{Value, json};

use common::{ISSUER, PRIVATE_KEY, PUBLIC_KEY, claims, sign, store_under_test, token};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "chromedriver";

/// axe-core as npm installs it (`tests/axe/package-lock.json` pins the version).
const AXE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/axe/node_modules/axe-core/axe.min.js");

/// The WCAG rules axe runs: 2.0 and 2.1, levels A and AA.
const WCAG_TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/// A viewport the pages are checked in.
#[derive(Debug, Clone, Copy)]
struct Viewport {
    name: &'static str,
    width: u32,
    height: u32,
    scale: f64,
    mobile: bool,
}

const DESKTOP: Viewport = Viewport { name: "desktop", width: 1280, height: 900, scale: 1.0, mobile: false };
const PHONE: Viewport = Viewport { name: "phone", width: 390, height: 844, scale: 2.0, mobile: true };

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

fn axe_source() -> String {
    std::fs::read_to_string(AXE).unwrap_or_else(|err| {
        panic!("the browser test needs axe-core at {AXE} ({err}): run scripts/install-deps.sh")
    })
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
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
                "--disable-dev-shm-usage",
                "--window-size=1280,900",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    caps
}

/// A command of the Chrome DevTools protocol, sent through chromedriver's
/// `goog/cdp/execute` endpoint.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/goog/cdp/execute", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (Method, Option<String>) {
        (Method::POST, Some(json!({ "cmd": self.cmd, "params": self.params }).to_string()))
    }
}

/// Shows pages in `viewport`, `height` tall (the viewport's own unless given).
async fn emulate(client: &Client, viewport: Viewport, height: Option<u32>) -> Result<(), CmdError> {
    let params = json!({
        "width": viewport.width,
        "height": height.unwrap_or(viewport.height),
        "deviceScaleFactor": viewport.scale,
        "mobile": viewport.mobile,
    });
    client.issue_cmd(Cdp { cmd: "Emulation.setDeviceMetricsOverride", params }).await?;
    Ok(())
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

/// A screenshot of the whole page at phone width, as tall as the page.
async fn phone_screenshot(client: &Client, name: &str) -> Result<PathBuf, CmdError> {
    let height = client.execute("return document.documentElement.scrollHeight", vec![]).await?;
    let height = height.as_u64().map_or(PHONE.height, |h| u32::try_from(h).unwrap_or(PHONE.height));
    emulate(client, PHONE, Some(height.max(PHONE.height))).await?;
    let path = screenshot(client, name).await;
    emulate(client, PHONE, None).await?;
    path
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

/// The text of the page's `main h1` once it contains `part`: after a click that navigates,
/// the page before may still be the one shown, with a heading of its own.
async fn heading(client: &Client, part: &str) -> Result<String, CmdError> {
    let xpath = format!("//main/h1[contains(., '{part}')]");
    client.wait().for_element(Locator::XPath(&xpath)).await?.text().await
}

async fn submit(client: &Client) -> Result<(), CmdError> {
    client.find(Locator::Css("main form button[type=submit]")).await?.click().await
}

/// The id of the element that has the focus.
async fn focused(client: &Client) -> Result<String, CmdError> {
    let id = client.execute("return document.activeElement.id", vec![]).await?;
    Ok(id.as_str().unwrap_or_default().to_owned())
}

/// Presses keys on the focused element.
async fn press(client: &Client, keys: &str) -> Result<(), CmdError> {
    client.active_element().await?.send_keys(keys).await
}

const TAB: &str = "\u{e004}";
const ENTER: &str = "\u{e007}";

/// A request to the JSON API as another program would send it.
async fn api(base: &str, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let client: HttpClient<HttpConnector, Full<Bytes>> =
        HttpClient::builder(TokioExecutor::new()).build_http();
    let body = body.map_or_else(Bytes::new, |b| Bytes::from(b.to_string()));
    let request = Request::builder()
        .method(method)
        .uri(format!("{base}/api{path}"))
        .header("authorization", format!("Bearer {}", token()))
        .header("content-type", "application/json")
        .body(Full::new(body))
        .unwrap();
    let response = client.request(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// Checks every page state at both widths: axe finds no WCAG 2.1 A/AA violation, and the
/// page is no wider than the viewport. Problems are collected, and reported together.
struct Checker {
    axe: String,
    problems: Vec<String>,
    states: usize,
    started: Instant,
}

impl Checker {
    fn new() -> Self {
        Self { axe: axe_source(), problems: Vec::new(), states: 0, started: Instant::now() }
    }

    /// Checks the page the browser shows as `state`, and saves a screenshot of it at phone
    /// width as `shot`.
    async fn check(&mut self, client: &Client, state: &str, shot: Option<&str>) -> Result<(), CmdError> {
        self.states += 1;
        for viewport in [PHONE, DESKTOP] {
            emulate(client, viewport, None).await?;
            let widths = client
                .execute("return [document.documentElement.scrollWidth, window.innerWidth]", vec![])
                .await?;
            let (page, inner) = (widths[0].as_u64().unwrap_or(0), widths[1].as_u64().unwrap_or(0));
            if page > u64::from(viewport.width) || inner != u64::from(viewport.width) {
                self.problems.push(format!(
                    "{state} at {} width: the page is {page} px wide (viewport {inner} px, expected {} px)",
                    viewport.name, viewport.width
                ));
            }
            for violation in self.axe(client).await? {
                self.problems.push(format!("{state} at {} width: {violation}", viewport.name));
            }
            if let (Some(shot), true) = (shot, viewport.mobile) {
                let path = phone_screenshot(client, shot).await?;
                eprintln!("screenshot of {state} at phone width: {}", path.display());
            }
        }
        Ok(())
    }

    /// Shows that the checks can fail: an image without a text alternative and an element
    /// wider than the phone, added to the page for a moment, are both found.
    async fn can_fail(&mut self, client: &Client) -> Result<(), CmdError> {
        let add = r"
            const img = document.createElement('img');
            img.id = 'probe-image';
            img.src = '/style.css';
            const wide = document.createElement('div');
            wide.id = 'probe-wide';
            wide.style.width = '2000px';
            wide.textContent = 'wide';
            document.querySelector('main').append(img, wide);
        ";
        client.execute(add, vec![]).await?;
        let states = self.states;
        self.check(client, "probe", None).await?;
        self.states = states;
        let found: Vec<String> = self.problems.drain(..).collect();
        assert!(found.iter().any(|p| p.contains("image-alt")), "axe finds a missing alt: {found:?}");
        assert!(found.iter().any(|p| p.contains("px wide")), "the overflow is found: {found:?}");
        client.execute("document.getElementById('probe-image').remove(); document.getElementById('probe-wide').remove()", vec![]).await?;
        Ok(())
    }

    /// The WCAG 2.1 A/AA violations axe finds on the page, one line each.
    async fn axe(&self, client: &Client) -> Result<Vec<String>, CmdError> {
        let loaded = client.execute("return typeof window.axe !== 'undefined'", vec![]).await?;
        if loaded != Value::Bool(true) {
            client.execute(&self.axe, vec![]).await?;
        }
        let run = r"
            const done = arguments[arguments.length - 1];
            axe.run(document, { runOnly: arguments[0], resultTypes: ['violations'] })
                .then(result => done(result.violations.map(v =>
                    `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)))
                .catch(err => done([`axe failed: ${err}`]));
        ";
        let violations = client.execute_async(run, vec![json!(WCAG_TAGS)]).await?;
        Ok(violations
            .as_array()
            .map(|v| v.iter().map(|line| line.as_str().unwrap_or_default().to_owned()).collect())
            .unwrap_or_else(|| vec![format!("axe answered {violations}")]))
    }
}

/// The smallest contrast between the border of a form control and what is around it.
const BORDER_CONTRAST: &str = r"
    const luminance = color => {
        const [r, g, b] = color.match(/[\d.]+/g).slice(0, 3).map(c => {
            c = c / 255;
            return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const background = el => {
        for (let e = el.parentElement; e; e = e.parentElement) {
            const bg = getComputedStyle(e).backgroundColor;
            if (bg && !bg.startsWith('rgba(0, 0, 0, 0)') && bg !== 'transparent') return bg;
        }
        return 'rgb(255, 255, 255)';
    };
    const ratios = [...document.querySelectorAll('main input:not([type=hidden]), main textarea')].map(el => {
        const [a, b] = [luminance(getComputedStyle(el).borderTopColor), luminance(background(el))];
        return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    });
    return Math.min(...ratios);
";

/// The outline of the focused element: its style, width in px and whether the focus is
/// visible by the browser's own rules.
const FOCUS_RING: &str = r"
    const el = document.activeElement;
    const style = getComputedStyle(el);
    return [el.className, el.matches(':focus-visible'), style.outlineStyle, parseFloat(style.outlineWidth)];
";

/// Checks that the focused element shows a visible focus ring.
async fn assert_focus_ring(client: &Client, what: &str) -> Result<(), CmdError> {
    let ring = client.execute(FOCUS_RING, vec![]).await?;
    assert_eq!(ring[1], Value::Bool(true), "{what}: focus-visible ({ring})");
    assert_eq!(ring[2], "solid", "{what}: an outline ({ring})");
    assert!(ring[3].as_f64().unwrap_or(0.0) >= 2.0, "{what}: an outline of 2 px or more ({ring})");
    Ok(())
}

/// Names of the navigation landmarks of the page.
async fn nav_labels(client: &Client) -> Result<Vec<String>, CmdError> {
    let labels = client
        .execute(
            "return [...document.querySelectorAll('nav')].map(n => n.getAttribute('aria-label'))",
            vec![],
        )
        .await?;
    Ok(labels.as_array().unwrap().iter().map(|l| l.as_str().unwrap_or("(unnamed)").to_owned()).collect())
}

async fn walk(client: Client, base: String) -> Result<Checker, CmdError> {
    let mut checker = Checker::new();
    let case = format!("browser-{}", renraku_core::ContactId::new().to_string().split('-').next().unwrap());

    // Not signed in: the home page, and a case page that asks to sign in.
    client.goto(&format!("{base}/")).await?;
    checker.can_fail(&client).await?;
    checker.check(&client, "home page, signed out", None).await?;
    client.goto(&format!("{base}/cases/{case}")).await?;
    assert!(main_text(&client).await?.contains("You need to sign in"));
    checker.check(&client, "401 page", None).await?;
    // The page's own link leads back here after signing in.
    client.find(Locator::Css("main a[href^='/session?next=']")).await?.click().await?;
    client.wait().for_element(Locator::Id("token")).await?;
    checker.check(&client, "sign-in page", None).await?;
    fill(&client, "token", &token()).await?;
    submit(&client).await?;

    // Back at the case, signed in by the cookie: it has no contacts yet, which is no error.
    let text = client.wait().for_element(Locator::Css(".flash")).await?.text().await?;
    assert_eq!(text, "Signed in.");
    assert!(client.title().await?.starts_with("Signed in. "), "the flash is in the title");
    let page = main_text(&client).await?;
    assert!(page.contains(&format!("No contact data found for case #{case}")), "{page}");
    assert!(client.find(Locator::Css(".user")).await?.text().await?.contains("clerk-7"));
    assert!(client.find_all(Locator::Css("main .errors")).await?.is_empty(), "an empty case is no error");
    assert_eq!(nav_labels(&client).await?, ["Account"], "no pager on an empty case");
    checker.check(&client, "empty case", None).await?;

    // The home page, signed in, with an id that cannot be opened: the error is beside it.
    client.goto(&format!("{base}/")).await?;
    checker.check(&client, "home page, signed in", None).await?;
    fill(&client, "case_id", "case 7/b").await?;
    press(&client, ENTER).await?;
    let error = client.wait().for_element(Locator::Id("case_id-error")).await?.text().await?;
    assert!(error.contains("letters, digits"), "{error}");
    assert!(client.title().await?.starts_with("Error: "));
    assert_eq!(focused(&client).await?, "case_id", "the focus is on the input");
    checker.check(&client, "home page with an invalid case id", None).await?;
    fill(&client, "case_id", &case).await?;
    press(&client, ENTER).await?;

    // Create a contact by typing, with one mistake first.
    client.wait().for_element(Locator::LinkText("Add contact")).await?.click().await?;
    client.wait().for_element(Locator::Id("title")).await?;
    checker.check(&client, "new contact form", None).await?;
    let contrast = client.execute(BORDER_CONTRAST, vec![]).await?.as_f64().unwrap();
    assert!(contrast >= 3.0, "input borders have {contrast:.2}:1, WCAG 1.4.11 asks 3:1");
    fill(&client, "title", "Dr.").await?;
    fill(&client, "first_name", "Ada").await?;
    fill(&client, "last_name", "Lovelace").await?;
    fill(&client, "phone", "12").await?;
    fill(&client, "email", "ada@example.org").await?;
    fill(&client, "address", "12 St James's Square\nLondon SW1Y 4LB").await?;
    submit(&client).await?;
    let error = client.wait().for_element(Locator::Id("phone-error")).await?.text().await?;
    assert!(error.contains("is not a valid phone number"), "{error}");
    let kept = client.find(Locator::Id("last_name")).await?.prop("value").await?;
    assert_eq!(kept.as_deref(), Some("Lovelace"), "the input is kept");
    // The failure is said at the top: the title, and the summary, which has the focus.
    assert!(client.title().await?.starts_with("Error: New contact"));
    assert_eq!(focused(&client).await?, "error-summary");
    checker.check(&client, "form with errors", Some("web-form-errors-phone.png")).await?;
    // One Tab reaches the summary's link to the field, and following it focuses the field.
    press(&client, TAB).await?;
    let link = client.execute("return document.activeElement.getAttribute('href')", vec![]).await?;
    assert_eq!(link, "#phone");
    press(&client, ENTER).await?;
    assert_eq!(focused(&client).await?, "phone", "the summary's link leads to the field");
    fill(&client, "phone", "030 1234567").await?;
    submit(&client).await?;
    let flash = client.wait().for_element(Locator::Css(".flash")).await?.text().await?;
    assert_eq!(flash, "Contact created successfully.");
    assert_eq!(client.title().await?, "Contact created successfully. Dr. Ada Lovelace · renraku");

    // The show page: the address on its two lines, the phone number a tel: link.
    let url = client.current_url().await?;
    let contact_path = url.path().to_owned();
    assert!(contact_path.starts_with(&format!("/cases/{case}/contacts/")), "{url}");
    let page = main_text(&client).await?;
    assert!(page.contains("Dr. Ada Lovelace") && page.contains("+49301234567"), "{page}");
    assert!(page.contains("12 St James's Square\nLondon SW1Y 4LB"), "two lines: {page}");
    let tel = client.find(Locator::Css("a.phone")).await?.attr("href").await?;
    assert_eq!(tel.as_deref(), Some("tel:+49301234567"));
    checker.check(&client, "contact page", None).await?;
    screenshot(&client, "web-show.png").await?;

    // More contacts through the API, long values among them: two pages.
    for i in 0..20u8 {
        let contact = json!({
            "first_name": format!("Maximiliane-Alexandra {}", char::from(b'A' + i)),
            "last_name": "Schwarzenberg-Hohenlohe-Waldenburg",
            "phone": "+49 30 12345678",
            "email": format!("maximiliane.alexandra.schwarzenberg.{i}@a-rather-long-domain.example.org"),
            "relationship": "Nachbarin aus dem Vorderhaus, Erdgeschoss links",
        });
        let (status, _) = api(&base, Method::POST, &format!("/cases/{case}/contacts"), Some(contact)).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    client.find(Locator::LinkText(&format!("Case #{case}"))).await?.click().await?;
    client.wait().for_element(Locator::Css("main table")).await?;
    assert_eq!(nav_labels(&client).await?, ["Account", "Pages of contacts"]);
    checker.check(&client, "case page", Some("web-case-phone.png")).await?;
    client.find(Locator::LinkText("Next page")).await?.click().await?;
    assert_eq!(heading(&client, "(page 2)").await?, format!("Contact data for case #{case} (page 2)"));
    assert!(client.title().await?.contains("(page 2)"));
    checker.check(&client, "case page 2", None).await?;
    client.find(Locator::LinkText("Previous page")).await?.click().await?;
    client.wait().for_element(Locator::XPath("//main/h1[not(contains(., '(page 2)'))]")).await?;
    assert_eq!(heading(&client, "Contact data").await?, format!("Contact data for case #{case}"));

    // Edit.
    client.goto(&format!("{base}{contact_path}")).await?;
    client.find(Locator::LinkText("Edit")).await?.click().await?;
    client.wait().for_element(Locator::Id("last_name")).await?;
    checker.check(&client, "edit form", None).await?;
    fill(&client, "last_name", "King").await?;
    fill(&client, "relationship", "colleague").await?;
    submit(&client).await?;
    let flash = client.wait().for_element(Locator::Css(".flash")).await?.text().await?;
    assert_eq!(flash, "Contact updated successfully.");
    assert!(main_text(&client).await?.contains("Dr. Ada King"));

    // A conflicting edit: the form is loaded, someone else saves first, then we submit.
    client.find(Locator::LinkText("Edit")).await?.click().await?;
    fill(&client, "address", "Ockham Park\nSurrey").await?;
    let phone = json!({ "phone": "+49 40 5550100" });
    assert_eq!(api(&base, Method::PATCH, &contact_path, Some(phone)).await.0, StatusCode::OK);
    submit(&client).await?;
    assert_eq!(
        heading(&client, "changed in the meantime").await?,
        "This contact was changed in the meantime"
    );
    assert!(client.title().await?.starts_with("Error: "));
    let page = main_text(&client).await?;
    assert!(page.contains("Nothing was saved") && page.contains("+49 40 5550100"), "{page}");
    assert!(page.contains("differ from the current ones in: Phone, Address"), "{page}");
    let differing = client.find_all(Locator::Css("tr.differs th")).await?;
    let mut labels = Vec::new();
    for row in differing {
        labels.push(row.text().await?);
    }
    assert_eq!(labels, ["Phone differs", "Address differs"], "marked in words");
    checker.check(&client, "conflict page", Some("web-conflict-phone.png")).await?;
    screenshot(&client, "web-conflict.png").await?;
    // Nothing was overwritten.
    let (_, stored) = api(&base, Method::GET, &contact_path, None).await;
    assert_eq!(
        (stored["phone"].as_str(), stored["address"].as_str()),
        (Some("+49 40 5550100"), Some("12 St James's Square\nLondon SW1Y 4LB"))
    );
    // Saving the offered form overwrites knowingly: our address and our phone number.
    let phone_value = client.find(Locator::Id("phone")).await?.prop("value").await?;
    assert_eq!(phone_value.as_deref(), Some("030 1234567"), "the form holds what we typed");
    client.find(Locator::Css("main form button[type=submit]")).await?.click().await?;
    let flash = client.wait().for_element(Locator::Css(".flash")).await?.text().await?;
    assert_eq!(flash, "Contact updated successfully.");
    let page = main_text(&client).await?;
    assert!(page.contains("Ockham Park\nSurrey") && page.contains("030 1234567"), "{page}");

    // Delete, through the confirmation page; the focus ring shows on the red button.
    client.find(Locator::LinkText("Delete")).await?.click().await?;
    assert!(main_text(&client).await?.contains("This action cannot be reverted."));
    checker.check(&client, "delete confirmation", None).await?;
    client.execute("[...document.querySelectorAll('main a.phone')].pop().focus()", vec![]).await?;
    press(&client, TAB).await?;
    let class = client.execute("return document.activeElement.className", vec![]).await?;
    assert_eq!(class, "danger", "Tab reaches the delete button");
    assert_focus_ring(&client, "the red delete button").await?;
    press(&client, ENTER).await?;
    let flash = client.wait().for_element(Locator::Css(".flash")).await?.text().await?;
    assert_eq!(flash, "Contact deleted successfully.");
    assert!(client.title().await?.starts_with("Contact deleted successfully. Case #"));
    assert_eq!(client.current_url().await?.path(), format!("/cases/{case}"));

    // The audit trail, newest first, with the fields' labels.
    client.find(Locator::LinkText("Audit trail")).await?.click().await?;
    let first_row = client.wait().for_element(Locator::Css("main tbody tr")).await?.text().await?;
    assert!(first_row.contains("deleted"), "newest first: {first_row}");
    assert!(main_text(&client).await?.contains("First name, Last name"));
    checker.check(&client, "audit trail", None).await?;

    // Error pages, signed in: the header says who is signed in.
    for (path, state) in
        [("/nowhere", "404 page"), (&*format!("/cases/{case}/contacts/not-an-id"), "400 page")]
    {
        client.goto(&format!("{base}{path}")).await?;
        let header = client.find(Locator::Css("header")).await?.text().await?;
        assert!(header.contains("Signed in as clerk-7") && !header.contains("Sign in"), "{header}");
        checker.check(&client, state, None).await?;
    }

    // One person across cases: search, select, confirm, erase.
    let person = json!({"first_name": "Grete", "last_name": "Quast", "phone": "030 5550100"});
    for other in [format!("{case}-a"), format!("{case}-b")] {
        let (status, _) =
            api(&base, Method::POST, &format!("/cases/{other}/contacts"), Some(person.clone())).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    client.goto(&format!("{base}/people")).await?;
    checker.check(&client, "person search", None).await?;
    client.find(Locator::Css("input[name=kind][value=name]")).await?.click().await?;
    fill(&client, "q", "Quast").await?;
    submit(&client).await?;
    client.wait().for_element(Locator::Css("main input[type=checkbox]")).await?;
    assert!(main_text(&client).await?.contains("2 matching contact(s)"));
    checker.check(&client, "person matches by case", Some("web-person-phone.png")).await?;
    client.find(Locator::Css("main input[type=checkbox]")).await?.click().await?;
    client.find(Locator::Css("main button.danger")).await?.click().await?;
    client.wait().for_element(Locator::Css("input[name=confirm]")).await?;
    checker.check(&client, "person erase confirmation", None).await?;
    submit(&client).await?;
    assert_eq!(heading(&client, "erased").await?, "1 contact(s) erased");
    checker.check(&client, "person erased", None).await?;

    // A CSV import with mistakes: every problem by line and column.
    client.goto(&format!("{base}/cases/{case}/import")).await?;
    checker.check(&client, "import form", None).await?;
    let file = screenshot_dir().join("import-with-mistakes.csv");
    std::fs::write(&file, "first_name,email\nAda,ada@example.org\nBob,not-an-email\n").unwrap();
    client.find(Locator::Id("file")).await?.send_keys(&file.display().to_string()).await?;
    submit(&client).await?;
    let problems = client.wait().for_element(Locator::Css("main .errors")).await?.text().await?;
    assert!(problems.contains("Nothing was imported") && problems.contains("3 Email"), "{problems}");
    checker.check(&client, "import with problems", Some("web-import-errors-phone.png")).await?;

    // Erase the case, through its confirmation page.
    client.goto(&format!("{base}/cases/{case}/erase")).await?;
    checker.check(&client, "erase confirmation", None).await?;
    submit(&client).await?;
    let flash = client.wait().for_element(Locator::Css(".flash")).await?.text().await?;
    assert_eq!(flash, "All contact data of the case was erased.");
    checker.check(&client, "home page after erasing", None).await?;
    let deleted = screenshot(&client, "web-deleted.png").await?;

    read_only_walk(&client, &base, &mut checker).await?;

    // No script ever reached the browser.
    assert!(!client.source().await?.contains("<script"));
    eprintln!("screenshot: {}", deleted.display());
    Ok(checker)
}

/// A user whose token grants only `reader`: sees the case and its contact, with no button
/// to add, edit, delete or erase, and a POST sent anyway (with the page's CSRF token) is a
/// 403 that changes nothing.
async fn read_only_walk(client: &Client, base: &str, checker: &mut Checker) -> Result<(), CmdError> {
    let case = format!("reader-{}", renraku_core::ContactId::new().to_string().split('-').next().unwrap());
    let (status, created) =
        api(base, Method::POST, &format!("/cases/{case}/contacts"), Some(json!({ "first_name": "Grace" })))
            .await;
    assert_eq!(status, StatusCode::CREATED);
    let contact_path = format!("/cases/{case}/contacts/{}", created["id"].as_str().unwrap());

    // Sign out, and in again as the reader.
    client.find(Locator::Css("header form button")).await?.click().await?;
    // (The page before had a flash too: wait for this one.)
    client.wait().for_element(Locator::XPath("//p[@class='flash' and .='Signed out.']")).await?;
    client.goto(&format!("{base}/session?next=/cases/{case}")).await?;
    let mut reader = claims(json!("reader-3"));
    reader["roles"] = json!(["reader"]);
    fill(client, "token", &sign(&reader, PRIVATE_KEY)).await?;
    submit(client).await?;
    client.wait().for_element(Locator::XPath("//p[@class='flash' and .='Signed in.']")).await?;
    assert_eq!(client.current_url().await?.path(), format!("/cases/{case}"));
    let actions = client.find(Locator::Css("main .actions")).await?.text().await?;
    assert_eq!(actions.trim(), "Export CSV", "a reader may only read (and so export) the case");
    checker.check(client, "case page, read only", None).await?;
    client.find(Locator::LinkText("Grace")).await?.click().await?;
    client.wait().for_url(&client.current_url().await?.join(&contact_path).expect("a path")).await?;
    for button in ["Edit", "Delete"] {
        assert!(
            client.find_all(Locator::LinkText(button)).await?.is_empty(),
            "no {button} button for a reader"
        );
    }
    checker.check(client, "contact page, read only", None).await?;

    // A POST anyway, as a crafted form would send it (the page's CSRF token, this origin):
    // the policy refuses it. (The CSP allows no fetch, so a form is built and submitted.)
    let post = r"
        const [path, fields] = arguments;
        const form = document.createElement('form');
        form.method = 'post';
        form.action = path;
        fields.csrf_token = document.querySelector('input[name=csrf_token]').value;
        for (const [name, value] of Object.entries(fields)) {
            const input = document.createElement('input');
            input.type = 'hidden';
            input.name = name;
            input.value = value;
            form.append(input);
        }
        document.body.append(form);
        form.submit();";
    for (path, fields) in [
        (format!("{contact_path}/delete"), json!({ "version": "1" })),
        (contact_path.clone(), json!({ "first_name": "Changed", "version": "1" })),
    ] {
        client.goto(&format!("{base}{contact_path}")).await?;
        client.execute(post, vec![json!(path), fields]).await?;
        // The 403 page replaces the contact page (whose URL may be the same).
        client.wait().for_element(Locator::XPath("//main[contains(., 'You may not')]")).await?;
        assert_eq!(client.current_url().await?.path(), path);
        let status = client
            .execute("return performance.getEntriesByType('navigation')[0].responseStatus", vec![])
            .await?;
        assert_eq!(status, 403, "POST {path}");
        let text = main_text(client).await?;
        assert!(text.contains("You may not"), "POST {path}: {text}");
    }
    checker.check(client, "403 page", None).await?;
    let (status, stored) =
        api(base, Method::GET, &format!("/cases/{case}/contacts/{}", created["id"].as_str().unwrap()), None)
            .await;
    assert_eq!((status, stored), (StatusCode::OK, created), "the denied POSTs changed nothing");

    // The session page says what the reader may do.
    client.goto(&format!("{base}/session")).await?;
    assert!(main_text(client).await?.contains("Your roles: reader."));
    checker.check(client, "session page with roles", None).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_works_a_case_in_chromium_and_every_page_passes_axe_at_both_widths() {
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
    if !matches!(outcome, Ok(Ok(_))) {
        // Show where it went wrong.
        if let Ok(path) = screenshot(&client, "web-failure.png").await {
            eprintln!("failure screenshot: {}", path.display());
        }
        if let (Ok(url), Ok(text)) = (client.current_url().await, main_text(&client).await) {
            eprintln!("at {url}:\n{text}");
        }
    }
    let closed = client.close().await;
    let checker = match outcome {
        Ok(result) => result.expect("the browser walk"),
        Err(panic) => std::panic::resume_unwind(panic.into_panic()),
    };
    closed.expect("the browser session closes");
    let mut report = String::new();
    for problem in &checker.problems {
        let _ = writeln!(report, "- {problem}");
    }
    assert!(
        checker.problems.is_empty(),
        "{} problems in {} page states at two widths:\n{report}",
        checker.problems.len(),
        checker.states
    );
    eprintln!(
        "{} page states at 1280x900 and 390x844: no axe violation (WCAG 2.1 A/AA), no page wider \
         than its viewport; {:.1} s",
        checker.states,
        checker.started.elapsed().as_secs_f64()
    );
}
