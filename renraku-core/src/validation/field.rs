//! The rules of one field's value, chosen by the field's [`FieldKind`].
//!
//! The `validator` crate counts lengths in characters; the text policy ([`text`]), names
//! ([`name`]), email addresses ([`email`]) and phone numbers ([`phone`](super::phone)) have
//! rules of renraku's own, which the module docs of [`validation`](super) list.

use validator::ValidateLength;

use super::{Rules, ValidationErrors, code, email, name, text};
use crate::contact::{ContactField, FieldKind};

/// The most lines a multi-line field (an address) may have.
pub const MAX_LINES: usize = 10;

/// Normalizes a value of `field`: see [`text`]. `None` when blank.
pub(crate) fn normalize(field: ContactField, value: &str) -> Option<String> {
    match field.kind() {
        FieldKind::MultiLine => text::normalize_lines(value),
        _ => text::normalize_line(value),
    }
}

/// Checks a normalized value of `field`, adding every broken rule to `errors`: length, the
/// text policy, then the rule of the field's kind. Phone numbers are read by [`Rules`]
/// after these checks pass.
pub(super) fn check(rules: &Rules, field: ContactField, value: &str, errors: &mut ValidationErrors) {
    if !value.validate_length(None, Some(field.max_chars() as u64), None) {
        errors.push(super::field_error(field, code::TOO_LONG));
    }
    let multi_line = field.kind() == FieldKind::MultiLine;
    if let Err(broken) = text::check(value, multi_line) {
        errors.push(super::field_error(field, broken));
        return;
    }
    let broken = match field.kind() {
        FieldKind::MultiLine if value.lines().count() > MAX_LINES => Some(code::TOO_MANY_LINES),
        FieldKind::Name if !name::is_person_name(value) => Some(code::INVALID_NAME),
        FieldKind::Email if !email::is_email(value, rules.unicode_local_part()) => Some(code::INVALID_EMAIL),
        _ => None,
    };
    if let Some(broken) = broken {
        errors.push(super::field_error(field, broken));
    }
}

/// The message of a broken rule of `field`.
pub(super) fn message(field: ContactField, broken: &'static str) -> String {
    match broken {
        code::TOO_LONG => format!("must be at most {} characters", field.max_chars()),
        code::CONTROL_CHARACTER if field.kind() == FieldKind::MultiLine => {
            "must not contain control characters other than line breaks".into()
        }
        code::CONTROL_CHARACTER => "must not contain control characters or line breaks".into(),
        code::INVISIBLE_CHARACTER => {
            "must not contain invisible characters or text direction controls".into()
        }
        code::TOO_MANY_MARKS => {
            format!("must not stack more than {} accents on one letter", text::MAX_MARKS_PER_BASE)
        }
        code::TOO_MANY_LINES => format!("must have at most {MAX_LINES} lines"),
        code::INVALID_NAME => {
            "must have a letter, and may contain only letters, spaces, apostrophes, hyphens, periods and middle dots"
                .into()
        }
        code::INVALID_EMAIL => "is not a valid email address".into(),
        _ => "is not valid".into(),
    }
}
