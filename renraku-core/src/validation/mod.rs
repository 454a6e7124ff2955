//! The validation rules: [`Rules`] normalizes and checks every input before a backend sees it.
//!
//! | field | rule | accepted | rejected |
//! |---|---|---|---|
//! | every text field | trimmed; blank means absent; NFC-normalized; no control characters (code `control_character`) | `"  Ada "` → `"Ada"`, `"   "` → absent | `"Ada\u{7}"`, `"a\nb"` |
//! | `title` | at most 50 characters (code `too_long`) | `"Dr."`, `"Herr"` | 51 characters |
//! | `first_name`, `last_name` | at most 100 characters; letters, combining marks, spaces (not line breaks), `'`, `’`, `-`, `.` (code `invalid_name`) | `Zoë-Marie`, `O'Brien`, `Nguyễn`, `李小龙`, `Jean-Luc`, `J. R.` | `R2D2`, `<b>`, `a;b`, `a@b` |
//! | `phone` | at most 32 characters; a valid number for libphonenumber, international with a leading `+` or national in the default region (codes `invalid_phone`, `missing_country_code`); kept as entered, plus its E.164 form | `+49 30 1234567`, `030 1234567` (region DE), `(202) 555-0143` (region US) | `12`, `+49 0`, `030 1234567` without a default region |
//! | `email` | at most 254 characters; the `validator` crate's email rule (code `invalid_email`) | `ada@example.org`, `zoe@bücher.de` | `ada`, `ada@`, `@example.org`, `zoë@example.org` (the local part is ASCII) |
//! | `address` | at most 500 characters | `Hauptstraße 1, 10115 Berlin` | 501 characters |
//! | `relationship` | at most 100 characters | `household`, `colleague` | 101 characters |
//! | the contact | at least one of `first_name`, `last_name`, `phone`, `email` (code `empty_contact`, field `contact`) | a phone number alone | only a title and an address |
//!
//! Lengths count characters (Unicode scalar values) after normalization, not bytes. Errors
//! name the field, a stable code and a message; they never contain the rejected value.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use crate::contact::{ContactField, ContactPatch, FieldKind, FieldPatch, FieldValues, NewContact};
use crate::error::Error;

mod field;
mod phone;

pub use phone::PhoneRegion;

/// The stable error codes of [`FieldError::code`].
pub mod code {
    /// A value is longer than its field allows.
    pub const TOO_LONG: &str = "too_long";
    /// A value contains a control character.
    pub const CONTROL_CHARACTER: &str = "control_character";
    /// A name contains a character other than letters, marks, spaces, `'`, `’`, `-`, `.`.
    pub const INVALID_NAME: &str = "invalid_name";
    /// A phone number is not a valid number.
    pub const INVALID_PHONE: &str = "invalid_phone";
    /// A national phone number was given but no default region is configured.
    pub const MISSING_COUNTRY_CODE: &str = "missing_country_code";
    /// An email address is not valid.
    pub const INVALID_EMAIL: &str = "invalid_email";
    /// A contact has none of first name, last name, phone and email.
    pub const EMPTY_CONTACT: &str = "empty_contact";
    /// A required value is missing or blank.
    pub const REQUIRED: &str = "required";
    /// A number is out of its range.
    pub const RANGE: &str = "range";
    /// A phone region is not a known region code.
    pub const UNKNOWN_REGION: &str = "unknown_region";
}

/// One broken rule: which field, which rule (a stable code) and a message for people.
///
/// It never contains the rejected value, so it can be logged and shown anywhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// For a bulk create, the position of the invalid input in the batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// The field's name, such as `first_name` (see [`ContactField::name`]), or `contact` for
    /// a rule about the whole contact.
    pub field: &'static str,
    /// A stable code from [`code`], such as `too_long`.
    pub code: &'static str,
    /// A message for people, such as "must be at most 100 characters".
    pub message: Cow<'static, str>,
}

impl FieldError {
    /// A new error for `field`.
    pub fn new(field: &'static str, code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self { index: None, field, code, message: message.into() }
    }

    fn at(self, index: usize) -> Self {
        Self { index: Some(index), ..self }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(index) = self.index {
            write!(f, "[{index}] ")?;
        }
        write!(f, "{} {}", self.field, self.message)
    }
}

/// Every rule an input broke, in field order (and by index for a bulk create).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ValidationErrors(Vec<FieldError>);

impl ValidationErrors {
    /// The errors, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, FieldError> {
        self.0.iter()
    }

    /// How many rules were broken.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `true` if no rule was broken.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The errors of one field.
    pub fn for_field<'a>(&'a self, field: &'a str) -> impl Iterator<Item = &'a FieldError> + 'a {
        self.0.iter().filter(move |e| e.field == field)
    }

    pub(crate) fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// Adds the errors of the input at `index` of a batch.
    pub(crate) fn extend_at(&mut self, index: usize, errors: Self) {
        self.0.extend(errors.0.into_iter().map(|e| e.at(index)));
    }

    /// Orders the errors by field (contact fields in [`ContactField::ALL`] order, then the
    /// rest) and fails if there are any.
    fn into_result(mut self) -> Result<(), Error> {
        let rank =
            |e: &FieldError| ContactField::ALL.iter().position(|f| f.name() == e.field).unwrap_or(usize::MAX);
        self.0.sort_by_key(|e| (e.index, rank(e)));
        if self.is_empty() { Ok(()) } else { Err(Error::Validation(self)) }
    }
}

impl From<FieldError> for ValidationErrors {
    fn from(error: FieldError) -> Self {
        Self(vec![error])
    }
}

impl FromIterator<FieldError> for ValidationErrors {
    fn from_iter<I: IntoIterator<Item = FieldError>>(errors: I) -> Self {
        Self(errors.into_iter().collect())
    }
}

impl Extend<FieldError> for ValidationErrors {
    fn extend<I: IntoIterator<Item = FieldError>>(&mut self, errors: I) {
        self.0.extend(errors);
    }
}

impl IntoIterator for ValidationErrors {
    type Item = FieldError;
    type IntoIter = std::vec::IntoIter<FieldError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a ValidationErrors {
    type Item = &'a FieldError;
    type IntoIter = std::slice::Iter<'a, FieldError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            fmt::Display::fmt(error, f)?;
        }
        Ok(())
    }
}

/// The validation rules, with their one setting: the default phone region.
///
/// Every backend validates through the `Rules` it was built with, so the rules are the same
/// whatever stores the data. See the [module docs](self) for the table of rules.
///
/// ```
/// use renraku_core::{NewContact, Rules};
///
/// let rules = Rules::default().with_default_region("DE".parse()?);
/// let input = NewContact { phone: Some(" 030 1234567 ".into()), ..NewContact::default() };
/// let draft = rules.check_new(input)?;
/// assert_eq!(draft.phone_e164(), Some("+49301234567"));
/// # Ok::<(), renraku_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    default_region: Option<PhoneRegion>,
}

impl Rules {
    /// Rules where national phone numbers belong to `region`.
    #[must_use]
    pub fn with_default_region(mut self, region: PhoneRegion) -> Self {
        self.default_region = Some(region);
        self
    }

    /// The default phone region, if one is set.
    #[must_use]
    pub fn default_region(&self) -> Option<PhoneRegion> {
        self.default_region
    }

    /// Normalizes and checks the input of a create.
    ///
    /// # Errors
    /// [`Error::Validation`] listing every broken rule.
    pub fn check_new(&self, mut input: NewContact) -> Result<ContactDraft, Error> {
        let values: FieldValues = ContactField::ALL.map(|f| input.take(f).as_deref().and_then(normalize));
        let mut errors = ValidationErrors::default();
        let phone_e164 = self.check_values(&values, &mut errors);
        if !has_someone_to_contact(&values) {
            errors.push(empty_contact());
        }
        errors.into_result()?;
        Ok(ContactDraft { values, phone_e164 })
    }

    /// Normalizes and checks the input of an update, field by field. Whether the result
    /// still has someone to contact is checked when the patch is applied.
    ///
    /// # Errors
    /// [`Error::Validation`] listing every broken rule.
    pub fn check_patch(&self, mut patch: ContactPatch) -> Result<CheckedPatch, Error> {
        let patches = ContactField::ALL.map(|f| match patch.take(f) {
            FieldPatch::Set(value) => normalize(&value).map_or(FieldPatch::Clear, FieldPatch::Set),
            other => other,
        });
        let values: FieldValues = patches.each_ref().map(|p| match p {
            FieldPatch::Set(value) => Some(value.clone()),
            _ => None,
        });
        let mut errors = ValidationErrors::default();
        let phone_e164 = self.check_values(&values, &mut errors);
        errors.into_result()?;
        Ok(CheckedPatch { fields: patches, phone_e164 })
    }

    /// Checks every present value by its field's rules; returns the E.164 form of a valid
    /// phone number.
    fn check_values(&self, values: &FieldValues, errors: &mut ValidationErrors) -> Option<String> {
        let mut phone_e164 = None;
        for field in ContactField::ALL {
            let Some(value) = &values[field.index()] else { continue };
            let before = errors.len();
            field::check(field, value, errors);
            if field.kind() == FieldKind::Phone && errors.len() == before {
                phone_e164 = self.phone_e164(value, errors);
            }
        }
        phone_e164
    }
}

fn has_someone_to_contact(values: &FieldValues) -> bool {
    ContactField::REACHABLE.into_iter().any(|f| values[f.index()].is_some())
}

pub(crate) fn empty_contact() -> FieldError {
    FieldError::new(
        "contact",
        code::EMPTY_CONTACT,
        "needs at least one of first name, last name, phone or email (to remove a contact, delete it)",
    )
}

/// Trims, maps blank to absent, and NFC-normalizes: the first step for every text field.
///
/// ```
/// use renraku_core::validation::normalize;
///
/// assert_eq!(normalize("  Zoe\u{308} "), Some("Zoë".to_owned()));
/// assert_eq!(normalize(" \t "), None);
/// ```
#[must_use]
pub fn normalize(value: &str) -> Option<String> {
    let trimmed = value.trim();
    (!trimmed.is_empty()).then(|| nfc(trimmed))
}

/// NFC, without the work of composing when a quick check already knows the text is NFC
/// (nearly all input is).
fn nfc(text: &str) -> String {
    match unicode_normalization::is_nfc_quick(text.chars()) {
        unicode_normalization::IsNormalized::Yes => text.to_owned(),
        _ => text.nfc().collect(),
    }
}

/// Folds case for case-insensitive search (Unicode lowercase, then NFC). Backends store and
/// compare folded keys, so every backend matches the same way whatever its collation.
///
/// Lowercasing can undo NFC (`İ` becomes `i` and U+0307, which must follow marks of a lower
/// combining class), so the result is normalized again: folding a folded key changes nothing.
#[must_use]
pub fn fold_case(value: &str) -> String {
    nfc(&value.to_lowercase())
}

/// The longest value of a field, in characters: [`ContactField::max_chars`].
#[must_use]
pub const fn max_chars(field: ContactField) -> usize {
    field.max_chars()
}

/// A create's input after [`Rules::check_new`]: normalized, valid, with its phone's E.164
/// form. Turn it into a stored contact with [`plan::create`](crate::plan::create).
#[derive(Clone, PartialEq, Eq)]
pub struct ContactDraft {
    pub(crate) values: FieldValues,
    pub(crate) phone_e164: Option<String>,
}

impl ContactDraft {
    /// The normalized value of one field.
    #[must_use]
    pub fn field(&self, field: ContactField) -> Option<&str> {
        self.values[field.index()].as_deref()
    }

    /// The phone number in E.164 form, if a phone number was given.
    #[must_use]
    pub fn phone_e164(&self) -> Option<&str> {
        self.phone_e164.as_deref()
    }
}

impl fmt::Debug for ContactDraft {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let present: Vec<_> = ContactField::ALL.into_iter().filter(|c| self.field(*c).is_some()).collect();
        f.debug_struct("ContactDraft").field("present_fields", &present).finish_non_exhaustive()
    }
}

/// An update's input after [`Rules::check_patch`]: every set value normalized and valid.
/// Apply it to the current contact with [`plan::update`](crate::plan::update).
#[derive(Clone, PartialEq, Eq)]
pub struct CheckedPatch {
    pub(crate) fields: [FieldPatch<String>; ContactField::COUNT],
    pub(crate) phone_e164: Option<String>,
}

impl CheckedPatch {
    /// What the patch does to one field, after normalization.
    #[must_use]
    pub fn field(&self, field: ContactField) -> &FieldPatch<String> {
        &self.fields[field.index()]
    }
}

impl fmt::Debug for CheckedPatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("CheckedPatch");
        for field in ContactField::ALL {
            s.field(field.name(), self.field(field));
        }
        s.finish_non_exhaustive()
    }
}
