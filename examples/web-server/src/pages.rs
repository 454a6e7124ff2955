//! The HTML pages. Their routes are fixed, so that links and bookmarks stay stable.

use std::collections::HashSet;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use renraku_core::access::Action;
use renraku_core::validation::normalize_field;
use renraku_core::{
    AuditAction, AuditEvent, CaseId, ContactField, ContactId, ContactPatch, ContactRepository as _, Cursor,
    Error, FieldKind, IdKind, PageLimit, PageRequest,
};
use serde::Deserialize;

use crate::access::require;
use crate::auth::{Session, session_cookie_name, strip_bearer};
use crate::csrf::CsrfForm;
use crate::error::{HttpError, invalid_id_message};
use crate::extract::{CasePath, ContactPath, Paging};
use crate::flash::{self, Flash, see_other};
use crate::forms::ContactForm;
use crate::views::{
    AuditPage, AuditRow, CasePage, ConflictPage, ConflictRow, ContactFormPage, ContactPage, ContactRow,
    ContactView, DeletePage, ErasePage, HomePage, Layout, Pager, Row, SessionPage, Trail, contact_href,
    form_fields,
};
use crate::{AppState, cookies};

/// How many contacts or audit events one page lists.
const PAGE_SIZE: PageLimit = PageLimit::clamped(20);

/// The routes of the HTML pages.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/cases", get(open_case))
        .route("/cases/{case_id}", get(case_page))
        .route("/cases/{case_id}/contacts/new", get(new_contact))
        .route("/cases/{case_id}/contacts", post(create_contact))
        .route("/cases/{case_id}/contacts/{id}", get(show_contact).post(update_contact))
        .route("/cases/{case_id}/contacts/{id}/edit", get(edit_contact))
        .route("/cases/{case_id}/contacts/{id}/delete", get(confirm_delete).post(delete_contact))
        .route("/cases/{case_id}/audit", get(audit_page))
        .route("/audit", get(across_cases_audit))
        .route("/cases/{case_id}/erase", get(confirm_erase).post(erase_case))
        .route("/session", get(session_page).post(sign_in))
        .route("/session/delete", post(sign_out))
}

async fn home(layout: Layout) -> HomePage {
    HomePage { layout, case_id: String::new(), error: None }
}

#[derive(Deserialize)]
struct OpenCase {
    case_id: Option<String>,
}

/// `GET /cases?case_id=42`: the form of the home page. An id that cannot be opened shows
/// the home page again, with the error beside the input.
async fn open_case(layout: Layout, Query(query): Query<OpenCase>) -> Response {
    let raw = query.case_id.unwrap_or_default();
    let error = if raw.trim().is_empty() {
        "Please enter a case id.".to_owned()
    } else {
        match raw.trim().parse::<CaseId>() {
            // Case ids are letters, digits and `-_.:`, so they need no escaping in a path.
            Ok(case_id) => return see_other(&format!("/cases/{case_id}")),
            Err(_) => invalid_id_message(IdKind::Case),
        }
    };
    (StatusCode::BAD_REQUEST, HomePage { layout, case_id: raw, error: Some(error) }).into_response()
}

/// A case's contacts. A case without contacts answers 404, as the original did, but with
/// the case page itself: opening a new case is how work starts.
async fn case_page(
    session: Session,
    CasePath(case_id): CasePath,
    paging: Paging,
    trail: Trail,
) -> Result<Response, HttpError> {
    let request = paging.request(PAGE_SIZE);
    let page = session.store.list(&case_id, request, &session.actor).await?;
    let status =
        if page.items.is_empty() && request.after.is_none() { StatusCode::NOT_FOUND } else { StatusCode::OK };
    let page = CasePage {
        layout: session.layout,
        rows: page.items.iter().map(ContactRow::new).collect(),
        pager: trail.pager("Pages of contacts", &format!("/cases/{case_id}"), page.next),
        empty: status == StatusCode::NOT_FOUND,
        case_id: case_id.to_string(),
    };
    Ok((status, page).into_response())
}

fn new_form(
    layout: Layout,
    case_id: &CaseId,
    form: &ContactForm,
    errors: Option<&renraku_core::ValidationErrors>,
) -> ContactFormPage {
    ContactFormPage {
        layout,
        case_id: case_id.to_string(),
        heading: format!("New contact for case #{case_id}"),
        action: format!("/cases/{case_id}/contacts"),
        cancel: format!("/cases/{case_id}"),
        submit: "Create contact",
        version: None,
        summary: Vec::new(),
        fields: form_fields(form, errors),
    }
    .with_summary(errors)
}

fn edit_form(
    layout: Layout,
    case_id: &CaseId,
    id: ContactId,
    form: &ContactForm,
    version: u64,
    errors: Option<&renraku_core::ValidationErrors>,
) -> ContactFormPage {
    let href = contact_href(case_id, &id.to_string());
    ContactFormPage {
        layout,
        case_id: case_id.to_string(),
        heading: format!("Edit contact of case #{case_id}"),
        action: href.clone(),
        cancel: href,
        submit: "Save changes",
        version: Some(version),
        summary: Vec::new(),
        fields: form_fields(form, errors),
    }
    .with_summary(errors)
}

async fn new_contact(session: Session, CasePath(case_id): CasePath) -> Result<ContactFormPage, HttpError> {
    require(&session.store, &session.actor, &case_id, Action::Create).await?;
    Ok(new_form(session.layout, &case_id, &ContactForm::default(), None))
}

async fn create_contact(
    State(state): State<AppState>,
    session: Session,
    CasePath(case_id): CasePath,
    CsrfForm(form): CsrfForm<ContactForm>,
) -> Result<Response, HttpError> {
    match session.store.create(&case_id, form.to_new_contact(), &session.actor).await {
        Ok(contact) => {
            Ok(flash::redirect(&contact_href(&case_id, &contact.id.to_string()), Flash::Created, &state))
        }
        Err(Error::Validation(errors)) => {
            let page = new_form(session.layout, &case_id, &form, Some(&errors));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(err) => Err(err.into()),
    }
}

async fn show_contact(
    State(state): State<AppState>,
    session: Session,
    ContactPath(case_id, id): ContactPath,
) -> Result<ContactPage, HttpError> {
    let contact = session.store.get(&case_id, id, &session.actor).await?;
    Ok(ContactPage {
        layout: session.layout,
        case_id: case_id.to_string(),
        contact: ContactView::new(&contact, state.time_zone()),
    })
}

async fn edit_contact(
    session: Session,
    ContactPath(case_id, id): ContactPath,
) -> Result<ContactFormPage, HttpError> {
    require(&session.store, &session.actor, &case_id, Action::Update).await?;
    let contact = session.store.get(&case_id, id, &session.actor).await?;
    Ok(edit_form(session.layout, &case_id, id, &ContactForm::from_contact(&contact), contact.version, None))
}

async fn update_contact(
    State(state): State<AppState>,
    session: Session,
    ContactPath(case_id, id): ContactPath,
    CsrfForm(form): CsrfForm<ContactForm>,
) -> Result<Response, HttpError> {
    let Some(version) = form.version() else {
        return Err(HttpError::bad_request("The form has no valid version. Please reload the edit page."));
    };
    let patch = ContactPatch::replace_with(form.to_new_contact());
    match session.store.update(&case_id, id, patch, Some(version), &session.actor).await {
        Ok(_) => Ok(flash::redirect(&contact_href(&case_id, &id.to_string()), Flash::Updated, &state)),
        Err(Error::Validation(errors)) => {
            let page = edit_form(session.layout, &case_id, id, &form, version, Some(&errors));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(Error::Conflict { .. }) => {
            // Nothing was written: show what is stored now beside what the user typed, and
            // offer the user's values again as a form against the current version.
            let current = session.store.get(&case_id, id, &session.actor).await?;
            let rows = ContactField::ALL
                .into_iter()
                .map(|field| {
                    let stored = current.field(field).unwrap_or("");
                    let typed = form.value(field).unwrap_or("");
                    ConflictRow {
                        label: field.label(),
                        differs: normalize_field(field, typed).as_deref().unwrap_or("") != stored,
                        is_phone: field.kind() == FieldKind::Phone,
                        current: Row { label: field.label(), value: stored.to_owned(), href: None },
                        yours: Row { label: field.label(), value: typed.trim().to_owned(), href: None },
                    }
                })
                .collect();
            let page = ConflictPage {
                layout: session.layout,
                case_id: case_id.to_string(),
                current: ContactView::new(&current, state.time_zone()),
                rows,
                fields: form_fields(&form, None),
            };
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(err) => Err(err.into()),
    }
}

async fn confirm_delete(
    State(state): State<AppState>,
    session: Session,
    ContactPath(case_id, id): ContactPath,
) -> Result<DeletePage, HttpError> {
    require(&session.store, &session.actor, &case_id, Action::Delete).await?;
    let contact = session.store.get(&case_id, id, &session.actor).await?;
    Ok(DeletePage {
        layout: session.layout,
        case_id: case_id.to_string(),
        contact: ContactView::new(&contact, state.time_zone()),
    })
}

#[derive(Deserialize)]
struct VersionForm {
    version: Option<String>,
}

async fn delete_contact(
    State(state): State<AppState>,
    session: Session,
    ContactPath(case_id, id): ContactPath,
    CsrfForm(form): CsrfForm<VersionForm>,
) -> Result<Response, HttpError> {
    // The confirmation page carries the version it showed: a contact that changed since
    // is not deleted unseen, and a form without it deletes nothing (as an update).
    let Some(expected) = form.version.as_deref().and_then(|v| v.trim().parse().ok()) else {
        return Err(HttpError::bad_request(
            "The form has no valid version. Please reload the confirmation page.",
        ));
    };
    match session.store.delete(&case_id, id, Some(expected), &session.actor).await {
        Ok(()) => Ok(flash::redirect(&format!("/cases/{case_id}"), Flash::Deleted, &state)),
        Err(err @ Error::Conflict { .. }) => Err(HttpError::from(err)
            .with_link(contact_href(&case_id, &id.to_string()), "Review the current version")),
        Err(err) => Err(err.into()),
    }
}

/// How many audit events of a case the audit page reads at most.
///
/// The store lists a trail oldest first, with keyset cursors that only lead forward, and
/// the page shows it newest first: it reads the trail (500 events a query) and pages
/// through it in memory. A case with a longer trail shows its first `AUDIT_WINDOW`
/// events, and says so; the API pages through all of them.
pub(crate) const AUDIT_WINDOW: usize = 10_000;

#[derive(Deserialize)]
struct AuditQuery {
    before: Option<String>,
}

/// The audit trail of a case, newest first: `?before=<event>` starts the page with the
/// event before (older than) that one, so that pages stay put while events are added.
async fn audit_page(
    State(state): State<AppState>,
    session: Session,
    CasePath(case_id): CasePath,
    Query(query): Query<AuditQuery>,
) -> Result<AuditPage, HttpError> {
    audit_view(&state, session, case_id, query).await
}

/// What was done across cases (searches, with read audit on), as [`audit_page`] shows a
/// case's trail.
async fn across_cases_audit(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<AuditQuery>,
) -> Result<AuditPage, HttpError> {
    audit_view(&state, session, CaseId::across_cases(), query).await
}

async fn audit_view(
    state: &AppState,
    session: Session,
    case_id: CaseId,
    query: AuditQuery,
) -> Result<AuditPage, HttpError> {
    let across = case_id.is_across_cases();
    let before: Option<Cursor> =
        query.before.as_deref().filter(|b| !b.is_empty()).map(str::parse).transpose()?;
    let mut events: Vec<AuditEvent> = Vec::new();
    let mut request = PageRequest::first(PageLimit::MAX);
    let complete = loop {
        let page = session.store.audit_trail(&case_id, request, &session.actor).await?;
        let next = request.next(&page);
        events.extend(page.items);
        match next {
            Some(next) if events.len() < AUDIT_WINDOW => request = next,
            Some(_) => break false,
            None => break true,
        }
    };
    events.truncate(AUDIT_WINDOW);
    events.reverse();

    // Which contacts are gone (deleted, purged, erased alone or with the case) by each
    // event, newest first.
    let mut deleted = HashSet::new();
    let mut erased = false;
    let mut exists = Vec::with_capacity(events.len());
    for event in &events {
        match (event.action, event.contact_id) {
            (AuditAction::Deleted | AuditAction::Purged | AuditAction::Erased, Some(id)) => {
                deleted.insert(id);
            }
            (AuditAction::CaseErased, _) => erased = true,
            _ => {}
        }
        exists.push(!erased && !event.contact_id.is_some_and(|id| deleted.contains(&id)));
    }

    let cursor = |event: &AuditEvent| Cursor::after(*event.id.as_uuid());
    let start = match before {
        None => 0,
        Some(before) => {
            let at = events.iter().position(|e| cursor(e) == before);
            at.ok_or(Error::InvalidId { kind: IdKind::Cursor })? + 1
        }
    };
    let size = PAGE_SIZE.get();
    let end = (start + size).min(events.len());
    let path = if across { "/audit".to_owned() } else { format!("/cases/{case_id}/audit") };
    let link = |index: usize| match index {
        0 => path.clone(),
        i => format!("{path}?before={}", cursor(&events[i - 1])),
    };
    let number = start.div_ceil(size) + 1;
    let pager = Pager {
        label: "Pages of the audit trail",
        number,
        first: (number > 2).then(|| path.clone()),
        previous: (start > 0).then(|| link(start.saturating_sub(size))),
        next: (end < events.len()).then(|| link(end)),
    };
    let time_zone = state.time_zone();
    Ok(AuditPage {
        layout: session.layout,
        rows: (start..end).map(|i| AuditRow::new(&events[i], time_zone, exists[i])).collect(),
        pager,
        time_zone,
        truncated: (!complete).then_some(AUDIT_WINDOW),
        case_id: case_id.to_string(),
        across,
    })
}

async fn confirm_erase(session: Session, CasePath(case_id): CasePath) -> Result<ErasePage, HttpError> {
    require(&session.store, &session.actor, &case_id, Action::EraseCase).await?;
    let case = session.store.case(&case_id, &session.actor).await?;
    Ok(ErasePage { layout: session.layout, case_id: case_id.to_string(), count: case.contact_count })
}

#[derive(Deserialize)]
struct NoFields {}

async fn erase_case(
    State(state): State<AppState>,
    session: Session,
    CasePath(case_id): CasePath,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, HttpError> {
    match session.store.erase_case(&case_id, &session.actor).await? {
        0 => Err(Error::case_not_found(&case_id).into()),
        _ => Ok(flash::redirect("/", Flash::Erased, &state)),
    }
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// A local path to go to after signing in; anything else (another site) becomes `/`.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && path.len() <= 1024
                && !path.chars().any(char::is_control) =>
        {
            path
        }
        _ => "/",
    }
}

async fn session_page(layout: Layout, Query(query): Query<NextQuery>) -> SessionPage {
    SessionPage { layout, next: safe_next(query.next.as_deref()).to_owned(), error: None }
}

#[derive(Deserialize)]
struct SignInForm {
    token: Option<String>,
    next: Option<String>,
}

/// Browsers drop cookies larger than about 4 KiB.
const MAX_COOKIE_TOKEN: usize = 3800;

async fn sign_in(
    State(state): State<AppState>,
    layout: Layout,
    CsrfForm(form): CsrfForm<SignInForm>,
) -> Result<Response, HttpError> {
    let next = safe_next(form.next.as_deref()).to_owned();
    let again = |layout: Layout, status: StatusCode, error: &'static str| {
        let page = SessionPage { layout, next: next.clone(), error: Some(error) };
        let mut response = (status, page).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    };
    let Some(verifier) = state.auth().verifier() else {
        let error =
            "Authentication is disabled on this server (DISABLE_AUTH), so there is no need to sign in.";
        return Ok(again(layout, StatusCode::BAD_REQUEST, error));
    };
    let raw = form.token.unwrap_or_default();
    let token = strip_bearer(&raw).trim();
    if token.len() > MAX_COOKIE_TOKEN {
        return Ok(again(layout, StatusCode::BAD_REQUEST, "The token is too long to keep in a cookie."));
    }
    let verified = match verifier.verify(token) {
        Ok(verified) => verified,
        Err(_) => {
            let error = "The token is not valid: it may have expired, come from another issuer, or be \
                         signed with another key.";
            return Ok(again(layout, StatusCode::UNAUTHORIZED, error));
        }
    };
    // The cookie is kept as long as the server accepts the token: its expiry plus the
    // leeway. A token accepted only within the leeway still gets a cookie that lives.
    let accepted_until = verified.accepted_until();
    let remaining = accepted_until - time::OffsetDateTime::now_utc().unix_timestamp();
    let Ok(expires) = time::OffsetDateTime::from_unix_timestamp(accepted_until) else {
        return Ok(again(layout, StatusCode::UNAUTHORIZED, "The token's expiry is out of range."));
    };
    if remaining < 1 {
        return Ok(again(layout, StatusCode::UNAUTHORIZED, "The token has expired. Please get a new one."));
    }
    let mut response = flash::redirect(&next, Flash::SignedIn, &state);
    let secure = state.secure_cookies();
    let mut session = cookies::cookie(session_cookie_name(secure), token.to_owned(), secure);
    session.set_expires(expires);
    session.set_max_age(time::Duration::seconds(remaining));
    cookies::append(response.headers_mut(), session);
    Ok(response)
}

async fn sign_out(State(state): State<AppState>, CsrfForm(NoFields {}): CsrfForm<NoFields>) -> Response {
    let mut response = flash::redirect("/", Flash::SignedOut, &state);
    let secure = state.secure_cookies();
    cookies::remove(response.headers_mut(), session_cookie_name(secure), secure);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/cases/42")), "/cases/42");
        for bad in ["https://evil.example/", "//evil.example/", "/\\evil.example", "cases", "/a\nb"] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
