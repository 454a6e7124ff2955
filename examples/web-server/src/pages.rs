//! The HTML pages. Their routes are fixed, so that links and bookmarks stay stable.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use renraku_core::{CaseId, ContactField, ContactId, ContactPatch, Error, PageLimit};
use serde::Deserialize;

use crate::auth::{Session, session_cookie_name, strip_bearer};
use crate::csrf::CsrfForm;
use crate::error::HttpError;
use crate::extract::{CasePath, ContactPath, Paging};
use crate::flash::{self, Flash, see_other};
use crate::forms::ContactForm;
use crate::views::{
    AuditPage, AuditRow, CasePage, ConflictPage, ContactFormPage, ContactPage, ContactRow, ContactView,
    DeletePage, ErasePage, HomePage, Layout, Pager, Row, SessionPage, contact_errors, contact_href,
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
        .route("/cases/{case_id}/erase", get(confirm_erase).post(erase_case))
        .route("/session", get(session_page).post(sign_in))
        .route("/session/delete", post(sign_out))
}

async fn home(layout: Layout) -> HomePage {
    HomePage { layout }
}

#[derive(Deserialize)]
struct OpenCase {
    case_id: Option<String>,
}

/// `GET /cases?case_id=42`: the form of the home page.
async fn open_case(Query(query): Query<OpenCase>) -> Result<Response, HttpError> {
    let raw = query.case_id.unwrap_or_default();
    if raw.trim().is_empty() {
        return Err(HttpError::bad_request("Please enter a case id."));
    }
    let case_id: CaseId = raw.trim().parse()?;
    // Case ids are letters, digits and `-_.:`, so they need no escaping in a path.
    Ok(see_other(&format!("/cases/{case_id}")))
}

/// A case's contacts. A case without contacts answers 404, as the original did, but with
/// the case page itself: opening a new case is how work starts.
async fn case_page(
    State(state): State<AppState>,
    session: Session,
    CasePath(case_id): CasePath,
    paging: Paging,
) -> Result<Response, HttpError> {
    let request = paging.request(PAGE_SIZE);
    let page = state.store().list(&case_id, request, &session.actor).await?;
    let status =
        if page.items.is_empty() && request.after.is_none() { StatusCode::NOT_FOUND } else { StatusCode::OK };
    let page = CasePage {
        layout: session.layout,
        rows: page.items.iter().map(ContactRow::new).collect(),
        pager: Pager::new(&format!("/cases/{case_id}"), request, &page),
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
        fields: form_fields(form, errors),
        contact_errors: contact_errors(errors),
    }
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
        fields: form_fields(form, errors),
        contact_errors: contact_errors(errors),
    }
}

async fn new_contact(session: Session, CasePath(case_id): CasePath) -> ContactFormPage {
    new_form(session.layout, &case_id, &ContactForm::default(), None)
}

async fn create_contact(
    State(state): State<AppState>,
    session: Session,
    CasePath(case_id): CasePath,
    CsrfForm(form): CsrfForm<ContactForm>,
) -> Result<Response, HttpError> {
    match state.store().create(&case_id, form.to_new_contact(), &session.actor).await {
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
    let contact = state.store().get(&case_id, id, &session.actor).await?;
    Ok(ContactPage {
        layout: session.layout,
        case_id: case_id.to_string(),
        contact: ContactView::new(&contact),
    })
}

async fn edit_contact(
    State(state): State<AppState>,
    session: Session,
    ContactPath(case_id, id): ContactPath,
) -> Result<ContactFormPage, HttpError> {
    let contact = state.store().get(&case_id, id, &session.actor).await?;
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
    match state.store().update(&case_id, id, patch, Some(version), &session.actor).await {
        Ok(_) => Ok(flash::redirect(&contact_href(&case_id, &id.to_string()), Flash::Updated, &state)),
        Err(Error::Validation(errors)) => {
            let page = edit_form(session.layout, &case_id, id, &form, version, Some(&errors));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(Error::Conflict { .. }) => {
            // Nothing was written: show what is stored now, and what the user typed.
            let current = state.store().get(&case_id, id, &session.actor).await?;
            let yours = ContactField::ALL
                .into_iter()
                .map(|f| Row { label: f.label(), value: form.value(f).unwrap_or("").trim().to_owned() })
                .collect();
            let page = ConflictPage {
                layout: session.layout,
                case_id: case_id.to_string(),
                current: ContactView::new(&current),
                yours,
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
    let contact = state.store().get(&case_id, id, &session.actor).await?;
    Ok(DeletePage {
        layout: session.layout,
        case_id: case_id.to_string(),
        contact: ContactView::new(&contact),
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
    match state.store().delete(&case_id, id, Some(expected), &session.actor).await {
        Ok(()) => Ok(flash::redirect(&format!("/cases/{case_id}"), Flash::Deleted, &state)),
        Err(err @ Error::Conflict { .. }) => Err(HttpError::from(err)
            .with_link(contact_href(&case_id, &id.to_string()), "Review the current version")),
        Err(err) => Err(err.into()),
    }
}

async fn audit_page(
    State(state): State<AppState>,
    session: Session,
    CasePath(case_id): CasePath,
    paging: Paging,
) -> Result<AuditPage, HttpError> {
    let request = paging.request(PAGE_SIZE);
    let page = state.store().audit_trail(&case_id, request, &session.actor).await?;
    Ok(AuditPage {
        layout: session.layout,
        rows: page.items.iter().map(AuditRow::new).collect(),
        pager: Pager::new(&format!("/cases/{case_id}/audit"), request, &page),
        case_id: case_id.to_string(),
    })
}

async fn confirm_erase(
    State(state): State<AppState>,
    session: Session,
    CasePath(case_id): CasePath,
) -> Result<ErasePage, HttpError> {
    let case = state.store().case(&case_id, &session.actor).await?;
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
    match state.store().erase_case(&case_id, &session.actor).await? {
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
