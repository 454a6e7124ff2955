//! One person across cases: the right of access and the right to erasure.
//!
//! - `GET /people`: the search form (phone, email or name).
//! - `POST /people`: the contacts that match, grouped by case, each with a checkbox.
//! - `POST /people/export`: every match with its audit trail, as a JSON download
//!   (`export_person`, which records an `exported` event per contact).
//! - `POST /people/erase`: first a confirmation page of the selected contacts, then (with
//!   `confirm`) `erase_person`, atomic per case, an `erased` event per contact.
//!
//! The search is a POST, never a GET: a phone number, an email or a name must not end up in
//! a URL (browser history, proxy logs). Every form carries the CSRF token.

use std::collections::BTreeMap;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use renraku_core::access::Action;
use renraku_core::{
    CaseId, ContactQuery, ContactRef, ContactRepository as _, Error, PageLimit, PageRequest, PersonRecord,
};
use serde::Deserialize;

use crate::AppState;
use crate::access::require;
use crate::auth::Session;
use crate::csrf::CsrfForm;
use crate::error::HttpError;
use crate::views::{ContactRow, Layout};

/// The most matches the page lists (and the most contacts one erase takes).
const MAX_MATCHES: usize = 500;

/// The most contacts one export holds.
const MAX_EXPORT: usize = 10_000;

/// The routes of the person pages.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/people", get(search_page).post(search))
        .route("/people/export", post(export))
        .route("/people/erase", post(erase))
}

/// What to search by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Phone,
    Email,
    Name,
}

impl Kind {
    fn parse(text: Option<&str>) -> Option<Self> {
        match text.map(str::trim) {
            Some("phone") => Some(Self::Phone),
            Some("email") => Some(Self::Email),
            Some("name") => Some(Self::Name),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Phone => "phone",
            Self::Email => "email",
            Self::Name => "name",
        }
    }

    fn query(self, text: &str) -> ContactQuery {
        let text = text.to_owned();
        match self {
            Self::Phone => ContactQuery::Phone(text),
            Self::Email => ContactQuery::Email(text),
            Self::Name => ContactQuery::NamePrefix(text),
        }
    }
}

/// The search form, also carried (hidden) by the export and erase forms. No `Debug`: it
/// holds what a person is found by.
#[derive(Deserialize)]
struct SearchForm {
    kind: Option<String>,
    q: Option<String>,
}

/// One match: a contact and the value of its checkbox (`case/id`).
pub(crate) struct Match {
    pub(crate) row: ContactRow,
    pub(crate) reference: String,
}

/// The matches of one case.
pub(crate) struct Group {
    pub(crate) case_id: String,
    pub(crate) matches: Vec<Match>,
}

/// `GET /people` and `POST /people`.
#[derive(askama::Template, askama_web::WebTemplate)]
#[template(path = "person.html")]
pub(crate) struct PersonPage {
    layout: Layout,
    kind: &'static str,
    q: String,
    error: Option<String>,
    searched: bool,
    groups: Vec<Group>,
    count: usize,
    truncated: bool,
}

impl PersonPage {
    fn new(layout: Layout, kind: Kind, q: String) -> Self {
        Self {
            layout,
            kind: kind.as_str(),
            q,
            error: None,
            searched: false,
            groups: Vec::new(),
            count: 0,
            truncated: false,
        }
    }
}

async fn search_page(session: Session) -> Result<PersonPage, HttpError> {
    require(&session.store, &session.actor, &CaseId::across_cases(), Action::Search).await?;
    Ok(PersonPage::new(session.layout, Kind::Phone, String::new()))
}

/// The kind and text of a search form, or the page that says what is wrong with it.
fn checked(form: SearchForm, layout: Layout) -> Result<(Kind, String), Box<PersonPage>> {
    let kind = Kind::parse(form.kind.as_deref());
    let q = form.q.unwrap_or_default();
    match kind {
        Some(kind) if !q.trim().is_empty() => Ok((kind, q)),
        _ => {
            let mut page = PersonPage::new(layout, kind.unwrap_or(Kind::Phone), q);
            page.error = Some("Please choose phone, email or name, and enter what to search for.".to_owned());
            Err(Box::new(page))
        }
    }
}

/// The search page again with the store's reasons why the query is not valid.
fn invalid(mut page: PersonPage, errors: &renraku_core::ValidationErrors) -> Response {
    let messages: Vec<String> = errors.iter().map(|e| e.message.to_string()).collect();
    page.error = Some(format!("The search is not valid: {}.", messages.join("; ")));
    (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
}

/// `POST /people`: the matches, grouped by case.
async fn search(session: Session, CsrfForm(form): CsrfForm<SearchForm>) -> Result<Response, HttpError> {
    let (kind, q) = match checked(form, session.layout.clone()) {
        Ok(checked) => checked,
        Err(page) => return Ok((StatusCode::UNPROCESSABLE_ENTITY, *page).into_response()),
    };
    let mut page = PersonPage::new(session.layout, kind, q);
    let mut contacts = Vec::new();
    let mut request = PageRequest::first(PageLimit::MAX);
    loop {
        let found = match session.store.find(kind.query(&page.q), request, &session.actor).await {
            Ok(found) => found,
            Err(Error::Validation(errors)) => return Ok(invalid(page, &errors)),
            Err(err) => return Err(err.into()),
        };
        let next = request.next(&found);
        contacts.extend(found.items);
        match next {
            Some(next) if contacts.len() < MAX_MATCHES => request = next,
            Some(_) => {
                page.truncated = true;
                break;
            }
            None => break,
        }
    }
    contacts.truncate(MAX_MATCHES);
    let mut groups: BTreeMap<String, Vec<Match>> = BTreeMap::new();
    for contact in &contacts {
        let reference = format!("{}/{}", contact.case_id, contact.id);
        groups
            .entry(contact.case_id.to_string())
            .or_default()
            .push(Match { row: ContactRow::new(contact), reference });
    }
    page.searched = true;
    page.count = contacts.len();
    page.groups = groups.into_iter().map(|(case_id, matches)| Group { case_id, matches }).collect();
    Ok(page.into_response())
}

/// `POST /people/export`: every match with its audit trail, as JSON.
async fn export(session: Session, CsrfForm(form): CsrfForm<SearchForm>) -> Result<Response, HttpError> {
    let (kind, q) = match checked(form, session.layout.clone()) {
        Ok(checked) => checked,
        Err(page) => return Ok((StatusCode::UNPROCESSABLE_ENTITY, *page).into_response()),
    };
    let mut records: Vec<PersonRecord> = Vec::new();
    let mut request = PageRequest::first(PageLimit::MAX);
    loop {
        let page = match session.store.export_person(kind.query(&q), request, &session.actor).await {
            Ok(page) => page,
            Err(Error::Validation(errors)) => {
                return Ok(invalid(PersonPage::new(session.layout, kind, q), &errors));
            }
            Err(err) => return Err(err.into()),
        };
        let next = request.next(&page);
        records.extend(page.items);
        match next {
            Some(next) if records.len() < MAX_EXPORT => request = next,
            _ => break,
        }
    }
    let complete = records.len() <= MAX_EXPORT;
    records.truncate(MAX_EXPORT);
    tracing::info!(contacts = records.len(), "person export");
    let body = crate::html_safe_json(&serde_json::json!({
        "exported_at": chrono::Utc::now(),
        "complete": complete,
        "records": records,
    }))
    .map_err(|status| HttpError::new(status, "The export could not be written."))?;
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"person-export.json\""),
    );
    Ok(response)
}

/// `POST /people/erase` without `confirm`: what the erase will take.
#[derive(askama::Template, askama_web::WebTemplate)]
#[template(path = "person_erase.html")]
pub(crate) struct ConfirmPage {
    layout: Layout,
    kind: &'static str,
    q: String,
    matches: Vec<Match>,
    erased: Option<u64>,
}

/// `POST /people/erase`: fields `kind`, `q`, `contact` (one per selected contact, `case/id`)
/// and, on the confirmation page, `confirm`.
async fn erase(
    session: Session,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, HttpError> {
    // The confirmation page, too, is only for those who may erase.
    require(&session.store, &session.actor, &CaseId::across_cases(), Action::ErasePerson).await?;
    let mut selection = Vec::new();
    let (mut kind, mut q, mut confirmed) = (Kind::Phone, String::new(), false);
    for (name, value) in fields {
        match name.as_str() {
            "contact" => {
                let reference = value.split_once('/').and_then(|(case_id, id)| {
                    Some(ContactRef { case_id: case_id.parse().ok()?, id: id.parse().ok()? })
                });
                let Some(reference) = reference else {
                    return Err(HttpError::bad_request(
                        "The selection could not be read. Please search again.",
                    ));
                };
                selection.push(reference);
            }
            "kind" => kind = Kind::parse(Some(&value)).unwrap_or(Kind::Phone),
            "q" => q = value,
            "confirm" => confirmed = true,
            _ => {}
        }
    }
    selection.sort();
    selection.dedup();
    if selection.is_empty() || selection.len() > MAX_MATCHES {
        return Err(HttpError::bad_request(format!(
            "Please select from 1 to {MAX_MATCHES} contacts to erase."
        ))
        .with_link("/people", "Search again"));
    }
    let mut page =
        ConfirmPage { layout: session.layout, kind: kind.as_str(), q, matches: Vec::new(), erased: None };
    if confirmed {
        let cases = selection.iter().map(|r| &r.case_id).collect::<std::collections::BTreeSet<_>>().len();
        let erased = session.store.erase_person(selection, &session.actor).await?;
        tracing::info!(erased, cases, "person erased across cases");
        page.erased = Some(erased);
        return Ok(page.into_response());
    }
    for reference in selection {
        match session.store.get(&reference.case_id, reference.id, &session.actor).await {
            Ok(contact) => page.matches.push(Match {
                row: ContactRow::new(&contact),
                reference: format!("{}/{}", reference.case_id, reference.id),
            }),
            // Erased or deleted since the search: nothing left to erase.
            Err(Error::NotFound { .. }) => {}
            Err(err) => return Err(err.into()),
        }
    }
    Ok(page.into_response())
}
