//! The HTML templates (askama: compiled with the binary, every value HTML-escaped) and the
//! small view models they show.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use renraku_core::{
    Actor, AuditEvent, CaseId, Contact, ContactField, FieldKind, Page, PageRequest, ValidationErrors,
};

use crate::AppState;
use crate::csrf::CsrfToken;
use crate::flash::IncomingFlash;
use crate::forms::ContactForm;

/// What every page shows around its content: the user, the flash, the CSRF token.
#[derive(Debug, Clone, Default)]
pub(crate) struct Layout {
    /// The CSRF token for the page's forms; empty on error pages, which have no forms.
    pub(crate) csrf: String,
    pub(crate) flash: Option<&'static str>,
    pub(crate) user: Option<String>,
    pub(crate) auth_disabled: bool,
}

impl Layout {
    pub(crate) fn from_parts(parts: &Parts, state: &AppState, actor: Option<&Actor>) -> Self {
        Self {
            csrf: parts.extensions.get::<CsrfToken>().map(|t| t.0.clone()).unwrap_or_default(),
            flash: parts.extensions.get::<IncomingFlash>().and_then(|f| f.0).map(|f| f.message()),
            user: actor.map(ToString::to_string),
            auth_disabled: state.auth().is_disabled(),
        }
    }

    /// The layout of an error page for a request: its user, if any, and the CSRF token of
    /// its cookie (for the sign-out button); no flash.
    pub(crate) fn of_request(headers: &HeaderMap, state: &AppState) -> Self {
        let user = crate::auth::optional_actor(headers, state);
        Self {
            csrf: crate::csrf::form_token(headers, state).unwrap_or_default(),
            flash: None,
            user: user.as_ref().map(ToString::to_string),
            auth_disabled: state.auth().is_disabled(),
        }
    }

    /// Whether the header can offer the sign-out button (it is a form).
    pub(crate) fn can_sign_out(&self) -> bool {
        self.user.is_some() && !self.csrf.is_empty() && !self.auth_disabled
    }
}

/// The layout of a public page, with the user if one is signed in.
impl FromRequestParts<AppState> for Layout {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let actor = crate::auth::optional_actor(&parts.headers, state);
        Ok(Self::from_parts(parts, state, actor.as_ref()))
    }
}

/// A link with its label.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    pub(crate) href: String,
    pub(crate) label: String,
}

impl Link {
    pub(crate) fn new(href: impl Into<String>, label: impl Into<String>) -> Self {
        Self { href: href.into(), label: label.into() }
    }
}

fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// One input of the contact form, with what the user typed and the errors beside it.
#[derive(Debug)]
pub(crate) struct FormField {
    pub(crate) name: &'static str,
    pub(crate) label: &'static str,
    /// `text`, `tel`, `email` or `textarea`.
    pub(crate) kind: &'static str,
    pub(crate) value: String,
    pub(crate) max: usize,
    pub(crate) errors: Vec<String>,
    pub(crate) hint: &'static str,
}

impl FormField {
    /// The id of the element that holds the field's errors, for `aria-describedby`.
    pub(crate) fn error_id(&self) -> String {
        format!("{}-error", self.name)
    }
}

/// The inputs of the contact form, filled with `form` and annotated with `errors`.
pub(crate) fn form_fields(form: &ContactForm, errors: Option<&ValidationErrors>) -> Vec<FormField> {
    ContactField::ALL
        .into_iter()
        .map(|field| FormField {
            name: field.name(),
            label: field.label(),
            kind: match field.kind() {
                FieldKind::Phone => "tel",
                FieldKind::Email => "email",
                FieldKind::MultiLine => "textarea",
                _ => "text",
            },
            value: form.value(field).unwrap_or_default().to_owned(),
            max: field.max_chars(),
            errors: errors
                .iter()
                .flat_map(|e| e.for_field(field.name()))
                .map(|e| e.message.to_string())
                .collect(),
            hint: match field.kind() {
                FieldKind::Phone => "With country code (+49 …) or a national number.",
                _ => "",
            },
        })
        .collect()
}

/// The errors about the whole contact (field `contact`), shown above the form.
pub(crate) fn contact_errors(errors: Option<&ValidationErrors>) -> Vec<String> {
    let known = |name: &str| ContactField::ALL.iter().any(|f| f.name() == name);
    errors.iter().flat_map(|e| e.iter()).filter(|e| !known(e.field)).map(ToString::to_string).collect()
}

/// A label and a value, for the tables of a contact.
#[derive(Debug)]
pub(crate) struct Row {
    pub(crate) label: &'static str,
    pub(crate) value: String,
}

/// A contact as the pages show it.
#[derive(Debug)]
pub(crate) struct ContactView {
    pub(crate) id: String,
    pub(crate) href: String,
    pub(crate) name: String,
    pub(crate) rows: Vec<Row>,
    pub(crate) version: u64,
    pub(crate) created: String,
    pub(crate) updated: String,
    pub(crate) created_by: String,
    pub(crate) updated_by: String,
}

impl ContactView {
    pub(crate) fn new(contact: &Contact) -> Self {
        let mut rows = Vec::with_capacity(ContactField::COUNT + 1);
        for field in ContactField::ALL {
            rows.push(Row { label: field.label(), value: contact.field(field).unwrap_or("").to_owned() });
            if let (FieldKind::Phone, Some(e164)) = (field.kind(), &contact.phone_e164) {
                rows.push(Row { label: "Phone (E.164)", value: e164.clone() });
            }
        }
        Self {
            id: contact.id.to_string(),
            href: contact_href(&contact.case_id, &contact.id.to_string()),
            name: display_name(contact),
            rows,
            version: contact.version,
            created: when(contact.created_at),
            updated: when(contact.updated_at),
            created_by: contact.created_by.to_string(),
            updated_by: contact.updated_by.to_string(),
        }
    }
}

pub(crate) fn contact_href(case_id: &CaseId, id: &str) -> String {
    format!("/cases/{case_id}/contacts/{id}")
}

fn display_name(contact: &Contact) -> String {
    let parts: Vec<&str> = [&contact.title, &contact.first_name, &contact.last_name]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    if parts.is_empty() { "(no name)".to_owned() } else { parts.join(" ") }
}

/// One line of the case's table of contacts.
#[derive(Debug)]
pub(crate) struct ContactRow {
    pub(crate) href: String,
    pub(crate) name: String,
    pub(crate) phone: String,
    pub(crate) email: String,
    pub(crate) relationship: String,
}

impl ContactRow {
    pub(crate) fn new(contact: &Contact) -> Self {
        Self {
            href: contact_href(&contact.case_id, &contact.id.to_string()),
            name: display_name(contact),
            phone: contact.phone.clone().unwrap_or_default(),
            email: contact.email.clone().unwrap_or_default(),
            relationship: contact.relationship.clone().unwrap_or_default(),
        }
    }
}

/// One line of the audit trail: when, who, what, which fields; never values.
#[derive(Debug)]
pub(crate) struct AuditRow {
    pub(crate) at: String,
    pub(crate) actor: String,
    pub(crate) action: &'static str,
    pub(crate) contact: String,
    pub(crate) fields: String,
}

impl AuditRow {
    pub(crate) fn new(event: &AuditEvent) -> Self {
        Self {
            at: when(event.at),
            actor: event.actor.to_string(),
            action: event.action.as_str(),
            contact: event.contact_id.map(|id| id.to_string()).unwrap_or_else(|| "(all)".into()),
            fields: event.changed_fields.iter().map(|f| f.name()).collect::<Vec<_>>().join(", "),
        }
    }
}

/// `GET /`.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "home.html")]
pub(crate) struct HomePage {
    pub(crate) layout: Layout,
}

/// `GET /cases/{case_id}`.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "case.html")]
pub(crate) struct CasePage {
    pub(crate) layout: Layout,
    pub(crate) case_id: String,
    pub(crate) rows: Vec<ContactRow>,
    pub(crate) pager: Pager,
    /// The case has no contacts at all (not just none on this page).
    pub(crate) empty: bool,
}

/// The contact form: new, edit, and both again with errors.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "contact_form.html")]
pub(crate) struct ContactFormPage {
    pub(crate) layout: Layout,
    pub(crate) case_id: String,
    pub(crate) heading: String,
    pub(crate) action: String,
    pub(crate) cancel: String,
    pub(crate) submit: &'static str,
    pub(crate) version: Option<u64>,
    pub(crate) fields: Vec<FormField>,
    pub(crate) contact_errors: Vec<String>,
}

/// `GET /cases/{case_id}/contacts/{id}`.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "contact.html")]
pub(crate) struct ContactPage {
    pub(crate) layout: Layout,
    pub(crate) case_id: String,
    pub(crate) contact: ContactView,
}

/// The 409 page of an edit that came too late.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "conflict.html")]
pub(crate) struct ConflictPage {
    pub(crate) layout: Layout,
    pub(crate) case_id: String,
    pub(crate) current: ContactView,
    pub(crate) yours: Vec<Row>,
}

/// `GET /cases/{case_id}/contacts/{id}/delete`.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "delete.html")]
pub(crate) struct DeletePage {
    pub(crate) layout: Layout,
    pub(crate) case_id: String,
    pub(crate) contact: ContactView,
}

/// `GET /cases/{case_id}/audit`.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "audit.html")]
pub(crate) struct AuditPage {
    pub(crate) layout: Layout,
    pub(crate) case_id: String,
    pub(crate) rows: Vec<AuditRow>,
    pub(crate) pager: Pager,
}

/// The links under a paged table (`templates/pager.html`): back to the first page when this
/// is not it, and on to the next page when there is one.
#[derive(Debug)]
pub(crate) struct Pager {
    pub(crate) first: Option<String>,
    pub(crate) next: Option<String>,
}

impl Pager {
    /// The links of `page`, fetched with `request`, of the listing at `path`.
    pub(crate) fn new<T>(path: &str, request: PageRequest, page: &Page<T>) -> Self {
        Self {
            first: request.after.map(|_| path.to_owned()),
            next: page.next.map(|cursor| format!("{path}?after={cursor}")),
        }
    }
}

/// `GET /cases/{case_id}/erase`.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "erase.html")]
pub(crate) struct ErasePage {
    pub(crate) layout: Layout,
    pub(crate) case_id: String,
    pub(crate) count: u64,
}

/// `GET /session` and a failed `POST /session`.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "session.html")]
pub(crate) struct SessionPage {
    pub(crate) layout: Layout,
    pub(crate) next: String,
    pub(crate) error: Option<&'static str>,
}

/// Every error page.
#[derive(Debug, Template)]
#[template(path = "error.html")]
pub(crate) struct ErrorPage {
    pub(crate) layout: Layout,
    pub(crate) title: &'static str,
    pub(crate) message: String,
    pub(crate) details: Vec<String>,
    pub(crate) link: Option<Link>,
}
