//! The rules of one field's value, chosen by the field's [`FieldKind`].
//!
//! The `validator` crate checks what it does well: lengths in characters and control
//! characters. Names and email addresses have rules of renraku's own (see the module docs
//! of [`validation`](super)).

use unicode_normalization::char::is_combining_mark;
use validator::{ValidateEmail, ValidateLength, ValidateNonControlCharacter};

use super::{FieldError, ValidationErrors, code};
use crate::contact::{ContactField, FieldKind};

/// Checks a normalized value of `field`, adding every broken rule to `errors`: length,
/// control characters, then the rule of the field's kind. Phone numbers are parsed by
/// [`Rules`](super::Rules), after these checks pass.
pub(super) fn check(field: ContactField, value: &str, errors: &mut ValidationErrors) {
    let name = field.name();
    if !value.validate_length(None, Some(field.max_chars() as u64), None) {
        errors.push(FieldError::new(
            name,
            code::TOO_LONG,
            format!("must be at most {} characters", field.max_chars()),
        ));
    }
    if !value.validate_non_control_character() {
        errors.push(FieldError::new(name, code::CONTROL_CHARACTER, "must not contain control characters"));
    }
    match field.kind() {
        FieldKind::Name if !is_person_name(value) => errors.push(FieldError::new(
            name,
            code::INVALID_NAME,
            "may contain only letters, spaces, apostrophes, hyphens and periods",
        )),
        FieldKind::Email if !value.validate_email() => {
            errors.push(FieldError::new(name, code::INVALID_EMAIL, "is not a valid email address"));
        }
        _ => {}
    }
}

fn is_person_name(name: &str) -> bool {
    name.chars().all(|c| {
        c.is_alphabetic()
            || is_combining_mark(c)
            || matches!(c, '\'' | '\u{2019}' | '-' | '.')
            // Space separators (U+0020, U+00A0, U+3000, …), not line or paragraph breaks.
            || (c.is_whitespace() && !c.is_control() && !matches!(c, '\u{2028}' | '\u{2029}'))
    })
}
