//! The HTML templates (askama: compiled with the binary, every value HTML-escaped) and the
//! small view models they show.

use std::sync::LazyLock;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use renraku_core::{AuditEvent, CaseId, Contact, ContactField, Cursor, FieldKind, ValidationErrors};

use crate::AppState;
use crate::access::{May, Principal};
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
    /// Which buttons and links the user's roles allow.
    pub(crate) may: May,
    /// The user's roles, by name.
    pub(crate) roles: Vec<&'static str>,
    /// The cases the user's token is restricted to; `None`: every case.
    pub(crate) cases: Option<Vec<String>>,
}

impl Layout {
    pub(crate) fn from_parts(parts: &Parts, state: &AppState, principal: Option<&Principal>) -> Self {
        Self {
            csrf: parts.extensions.get::<CsrfToken>().map(|t| t.0.clone()).unwrap_or_default(),
            flash: parts.extensions.get::<IncomingFlash>().and_then(|f| f.0).map(|f| f.message()),
            auth_disabled: state.auth().is_disabled(),
            ..Self::of_principal(principal)
        }
    }

    /// The parts of the layout that come from the user.
    fn of_principal(principal: Option<&Principal>) -> Self {
        Self {
            user: principal.map(|p| p.actor.to_string()),
            may: principal.map(Principal::may).unwrap_or_default(),
            roles: principal.map(Principal::role_names).unwrap_or_default(),
            cases: principal.and_then(Principal::case_names),
            ..Self::default()
        }
    }

    /// The layout of an error page for a request: its user, if any, and the CSRF token of
    /// its cookie (for the sign-out button); no flash.
    pub(crate) fn of_request(headers: &HeaderMap, state: &AppState) -> Self {
        let user = crate::auth::optional_actor(headers, state);
        Self {
            csrf: crate::csrf::form_token(headers, state).unwrap_or_default(),
            flash: None,
            auth_disabled: state.auth().is_disabled(),
            ..Self::of_principal(user.as_ref())
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

/// A moment as the pages show it: in the configured time zone, with its abbreviation.
pub(crate) fn when(at: DateTime<Utc>, time_zone: Tz) -> String {
    static FORMAT: LazyLock<Vec<Item<'static>>> = LazyLock::new(|| parsed("%Y-%m-%d %H:%M:%S %Z"));
    at.with_timezone(&time_zone).format_with_items(FORMAT.iter()).to_string()
}

/// A moment for `<time datetime>`: RFC 3339 in UTC.
fn machine_time(at: DateTime<Utc>) -> String {
    static FORMAT: LazyLock<Vec<Item<'static>>> = LazyLock::new(|| parsed("%Y-%m-%dT%H:%M:%SZ"));
    at.format_with_items(FORMAT.iter()).to_string()
}

/// A time format parsed once rather than on every use (a page shows several times).
fn parsed(format: &'static str) -> Vec<Item<'static>> {
    StrftimeItems::new(format).parse().unwrap_or_default()
}

/// The `tel:` link of a phone number in E.164 form.
fn tel_href(e164: &str) -> String {
    format!("tel:{e164}")
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
    /// A person's name: no spell checking.
    pub(crate) is_name: bool,
    /// Free text, which may be written right to left (`dir="auto"`).
    pub(crate) is_text: bool,
}

impl FormField {
    /// The id of the element that holds the field's errors, for `aria-describedby`.
    pub(crate) fn error_id(&self) -> String {
        format!("{}-error", self.name)
    }

    /// The id of the field's hint, for `aria-describedby`.
    pub(crate) fn hint_id(&self) -> String {
        format!("{}-hint", self.name)
    }

    /// The ids of what describes the input (its hint, its errors), space-separated; empty
    /// when nothing does.
    pub(crate) fn described_by(&self) -> String {
        let hint = (!self.hint.is_empty()).then(|| self.hint_id());
        let errors = (!self.errors.is_empty()).then(|| self.error_id());
        hint.into_iter().chain(errors).collect::<Vec<_>>().join(" ")
    }

    /// What the error summary says of the field: its label and each error.
    fn summary(&self) -> String {
        format!("{} {}", self.label, self.errors.join("; "))
    }
}

/// One line of the error summary at the top of a form: an error, linking to its field.
#[derive(Debug)]
pub(crate) struct SummaryItem {
    pub(crate) href: String,
    pub(crate) text: String,
}

/// The error summary of the contact form: the errors about the whole contact (linking to
/// the first field that would satisfy them), then each field's, in form order.
pub(crate) fn error_summary(fields: &[FormField], errors: Option<&ValidationErrors>) -> Vec<SummaryItem> {
    let whole = contact_errors(errors)
        .into_iter()
        .map(|text| SummaryItem { href: format!("#{}", ContactField::REACHABLE[0].name()), text });
    let per_field = fields
        .iter()
        .filter(|f| !f.errors.is_empty())
        .map(|f| SummaryItem { href: format!("#{}", f.name), text: f.summary() });
    whole.chain(per_field).collect()
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
                FieldKind::MultiLine => "Several lines are fine.",
                _ => "",
            },
            is_name: field.kind() == FieldKind::Name,
            is_text: matches!(field.kind(), FieldKind::Name | FieldKind::Text | FieldKind::MultiLine),
        })
        .collect()
}

/// The errors about the whole contact (field `contact`) and any other that no input shows.
fn contact_errors(errors: Option<&ValidationErrors>) -> Vec<String> {
    let known = |name: &str| ContactField::ALL.iter().any(|f| f.name() == name);
    errors
        .iter()
        .flat_map(|e| e.iter())
        .filter(|e| !known(e.field))
        .map(|e| if e.field == "contact" { format!("The contact {}", e.message) } else { e.to_string() })
        .collect()
}

/// A label and a value, for the tables of a contact.
#[derive(Debug)]
pub(crate) struct Row {
    pub(crate) label: &'static str,
    pub(crate) value: String,
    /// Where the value links to (`tel:` for phone numbers).
    pub(crate) href: Option<String>,
}

impl Row {
    /// The value's lines: a postal address may have several.
    pub(crate) fn lines(&self) -> std::str::Split<'_, char> {
        self.value.split('\n')
    }
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
    pub(crate) fn new(contact: &Contact, time_zone: Tz) -> Self {
        let mut rows = Vec::with_capacity(ContactField::COUNT + 1);
        let tel = contact.phone_e164.as_deref().map(tel_href);
        for field in ContactField::ALL {
            let value = contact.field(field).unwrap_or("").to_owned();
            let href = if field.kind() == FieldKind::Phone { tel.clone() } else { None };
            rows.push(Row { label: field.label(), value, href });
            if let (FieldKind::Phone, Some(e164)) = (field.kind(), &contact.phone_e164) {
                rows.push(Row { label: "Phone (E.164)", value: e164.clone(), href: tel.clone() });
            }
        }
        Self {
            id: contact.id.to_string(),
            href: contact_href(&contact.case_id, &contact.id.to_string()),
            name: display_name(contact),
            rows,
            version: contact.version,
            created: when(contact.created_at, time_zone),
            updated: when(contact.updated_at, time_zone),
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
    pub(crate) phone_href: Option<String>,
    pub(crate) email: String,
    pub(crate) relationship: String,
}

impl ContactRow {
    pub(crate) fn new(contact: &Contact) -> Self {
        Self {
            href: contact_href(&contact.case_id, &contact.id.to_string()),
            name: display_name(contact),
            phone: contact.phone.clone().unwrap_or_default(),
            phone_href: contact.phone_e164.as_deref().map(tel_href),
            email: contact.email.clone().unwrap_or_default(),
            relationship: contact.relationship.clone().unwrap_or_default(),
        }
    }
}

/// One line of the audit trail: when, who, what, which fields; never values.
#[derive(Debug)]
pub(crate) struct AuditRow {
    pub(crate) at: String,
    pub(crate) at_machine: String,
    pub(crate) actor: String,
    pub(crate) action: &'static str,
    pub(crate) contact: String,
    /// The contact's page, unless the contact is gone (deleted or erased since).
    pub(crate) contact_href: Option<String>,
    pub(crate) fields: String,
}

impl AuditRow {
    /// The row of `event`; `exists` says whether its contact still exists.
    pub(crate) fn new(event: &AuditEvent, time_zone: Tz, exists: bool) -> Self {
        let contact = event.contact_id.map(|id| id.to_string());
        Self {
            at: when(event.at, time_zone),
            at_machine: machine_time(event.at),
            actor: event.actor.to_string(),
            action: event.action.as_str(),
            contact_href: contact.as_deref().filter(|_| exists).map(|id| contact_href(&event.case_id, id)),
            contact: contact.unwrap_or_else(|| "(all)".into()),
            fields: event.changed_fields.iter().map(|f| f.label()).collect::<Vec<_>>().join(", "),
        }
    }
}

/// `GET /`.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "home.html")]
pub(crate) struct HomePage {
    pub(crate) layout: Layout,
    /// What was typed into the case id field.
    pub(crate) case_id: String,
    /// Why it cannot be opened.
    pub(crate) error: Option<String>,
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
    /// Every error, at the top of the page, each linking to its field.
    pub(crate) summary: Vec<SummaryItem>,
}

impl ContactFormPage {
    /// Fills the error summary from the fields' errors and those of the whole contact.
    pub(crate) fn with_summary(mut self, errors: Option<&ValidationErrors>) -> Self {
        self.summary = error_summary(&self.fields, errors);
        self
    }
}

/// `GET /cases/{case_id}/contacts/{id}`.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "contact.html")]
pub(crate) struct ContactPage {
    pub(crate) layout: Layout,
    pub(crate) case_id: String,
    pub(crate) contact: ContactView,
}

/// A field of the conflict page: what is stored now beside what the user typed.
#[derive(Debug)]
pub(crate) struct ConflictRow {
    pub(crate) label: &'static str,
    pub(crate) current: Row,
    pub(crate) yours: Row,
    pub(crate) differs: bool,
    /// A phone number, kept on one line.
    pub(crate) is_phone: bool,
}

/// The 409 page of an edit that came too late: the current version beside the user's
/// values, and a form with the user's values that carries the current version.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "conflict.html")]
pub(crate) struct ConflictPage {
    pub(crate) layout: Layout,
    pub(crate) case_id: String,
    pub(crate) current: ContactView,
    pub(crate) rows: Vec<ConflictRow>,
    /// The form, filled with the user's values.
    pub(crate) fields: Vec<FormField>,
}

impl ConflictPage {
    /// The labels of the fields that differ.
    pub(crate) fn differing(&self) -> String {
        self.rows.iter().filter(|r| r.differs).map(|r| r.label).collect::<Vec<_>>().join(", ")
    }
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
    /// The trail of what was done across cases (searches), not of one case.
    pub(crate) across: bool,
    pub(crate) rows: Vec<AuditRow>,
    pub(crate) pager: Pager,
    /// The time zone of the times shown.
    pub(crate) time_zone: Tz,
    /// The trail is longer than the page reads (`AUDIT_WINDOW` in `pages.rs`).
    pub(crate) truncated: Option<usize>,
}

/// The links under a paged table (`templates/pager.html`), and which page this is.
#[derive(Debug)]
pub(crate) struct Pager {
    /// The name of the pager's navigation landmark.
    pub(crate) label: &'static str,
    /// The page's number, from 1.
    pub(crate) number: usize,
    pub(crate) first: Option<String>,
    pub(crate) previous: Option<String>,
    pub(crate) next: Option<String>,
}

impl Pager {
    /// Whether there is any link to show (else there is no `<nav>` at all).
    pub(crate) fn has_links(&self) -> bool {
        self.first.is_some() || self.previous.is_some() || self.next.is_some()
    }

    /// What the title and heading of the page add: ` (page 2)`, nothing on the first page.
    pub(crate) fn suffix(&self) -> String {
        if self.number > 1 { format!(" (page {})", self.number) } else { String::new() }
    }
}

/// How many cursors of earlier pages a link carries at most, for "Previous page": enough for
/// 2,000 contacts at 20 a page; further on, "Previous page" reaches back that far and
/// "First page" always works.
pub(crate) const MAX_TRAIL: usize = 100;

/// Where a page of a keyset listing is: the cursor it starts after, the cursors of the
/// pages before it (the trail, oldest first, `?back=`), and its number (`?page=`).
/// Keyset cursors only lead forward; the trail is how "Previous page" leads back without
/// a backwards query.
#[derive(Debug, Clone, Default)]
pub(crate) struct Trail {
    pub(crate) after: Option<Cursor>,
    pub(crate) back: Vec<Cursor>,
    pub(crate) number: usize,
}

impl Trail {
    fn link(path: &str, after: Cursor, back: &[Cursor], number: usize) -> String {
        let mut link = format!("{path}?after={after}&page={number}");
        if !back.is_empty() {
            let back: Vec<String> = back.iter().map(ToString::to_string).collect();
            link.push_str("&back=");
            link.push_str(&back.join(","));
        }
        link
    }

    /// The pager of this page of the listing at `path`, given where the next page starts.
    pub(crate) fn pager(&self, label: &'static str, path: &str, next: Option<Cursor>) -> Pager {
        let number = self.number.max(1);
        let previous = match (number, self.back.split_last()) {
            (1, _) => None,
            (2, _) => Some(path.to_owned()),
            (_, Some((last, rest))) => Some(Self::link(path, *last, rest, number - 1)),
            // The trail was cut at MAX_TRAIL: "First page" still leads back.
            (_, None) => None,
        };
        let next = next.map(|cursor| {
            let mut back = self.back.clone();
            back.extend(self.after);
            let cut = back.len().saturating_sub(MAX_TRAIL);
            Self::link(path, cursor, &back[cut..], number + 1)
        });
        Pager { label, number, first: (number > 2).then(|| path.to_owned()), previous, next }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_show_in_the_time_zone_and_in_rfc_3339() {
        let at = DateTime::parse_from_rfc3339("2026-07-01T10:02:03Z").unwrap().with_timezone(&Utc);
        assert_eq!(when(at, chrono_tz::Europe::Berlin), "2026-07-01 12:02:03 CEST");
        assert_eq!(when(at, chrono_tz::UTC), "2026-07-01 10:02:03 UTC");
        assert_eq!(machine_time(at), "2026-07-01T10:02:03Z");
    }
}
