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
use std::str::FromStr;

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use validator::Validate;

use crate::contact::{ContactField, ContactPatch, FieldPatch, NewContact, contact_field};
use crate::error::Error;

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

    fn push(&mut self, error: FieldError) {
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

/// The region whose national phone numbers need no country code, such as `DE` or `US`.
///
/// ```
/// use renraku_core::PhoneRegion;
///
/// let region: PhoneRegion = "DE".parse()?;
/// assert_eq!(region.to_string(), "DE");
/// assert!("XX".parse::<PhoneRegion>().is_err());
/// # Ok::<(), renraku_core::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PhoneRegion(phonenumber::country::Id);

impl FromStr for PhoneRegion {
    type Err = Error;

    /// Parses an ISO 3166-1 alpha-2 region code, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        phonenumber::country::Id::from_str(&s.trim().to_ascii_uppercase()).map(Self).map_err(|_| {
            ValidationErrors::from(FieldError::new(
                "region",
                code::UNKNOWN_REGION,
                "is not a known region code (ISO 3166-1 alpha-2, such as DE)",
            ))
            .into()
        })
    }
}

impl fmt::Display for PhoneRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_ref())
    }
}

impl fmt::Debug for PhoneRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneRegion({self})")
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
        let mut fields = Fields::default();
        for field in ContactField::ALL {
            *fields.slot_mut(field) = input.take(field).as_deref().and_then(normalize);
        }
        let mut errors = fields.check();
        let phone_e164 = self.phone_e164(fields.phone.as_deref(), &mut errors);
        if !fields.has_someone_to_contact() {
            errors.push(empty_contact());
        }
        errors.into_result()?;
        Ok(ContactDraft { fields, phone_e164 })
    }

    /// Normalizes and checks the input of an update, field by field. Whether the result
    /// still has someone to contact is checked when the patch is applied.
    ///
    /// # Errors
    /// [`Error::Validation`] listing every broken rule.
    pub fn check_patch(&self, mut patch: ContactPatch) -> Result<CheckedPatch, Error> {
        let mut patches: [FieldPatch<String>; 7] = Default::default();
        let mut values = Fields::default();
        for field in ContactField::ALL {
            let normalized = match patch.take(field) {
                FieldPatch::Set(value) => normalize(&value).map_or(FieldPatch::Clear, FieldPatch::Set),
                other => other,
            };
            if let FieldPatch::Set(value) = &normalized {
                *values.slot_mut(field) = Some(value.clone());
            }
            patches[field as usize] = normalized;
        }
        let mut errors = values.check();
        let phone_e164 = match &patches[ContactField::Phone as usize] {
            FieldPatch::Set(phone) => self.phone_e164(Some(phone), &mut errors),
            _ => None,
        };
        errors.into_result()?;
        Ok(CheckedPatch { fields: patches, phone_e164 })
    }

    /// The E.164 form of a phone number, under these rules.
    ///
    /// # Errors
    /// [`Error::Validation`] for the field `phone`.
    pub fn normalize_phone(&self, phone: &str) -> Result<String, Error> {
        let mut errors = ValidationErrors::default();
        let normalized = normalize(phone).unwrap_or_default();
        match self.phone_e164(Some(&normalized), &mut errors) {
            Some(e164) => Ok(e164),
            None => {
                if errors.is_empty() {
                    errors.push(invalid_phone());
                }
                Err(errors.into())
            }
        }
    }

    fn phone_e164(&self, phone: Option<&str>, errors: &mut ValidationErrors) -> Option<String> {
        let phone = phone?;
        if errors.for_field(ContactField::Phone.name()).next().is_some() {
            return None;
        }
        if !has_country_code(phone) && self.default_region.is_none() {
            errors.push(FieldError::new(
                ContactField::Phone.name(),
                code::MISSING_COUNTRY_CODE,
                "needs a country code such as +49, because no default region is set",
            ));
            return None;
        }
        match self.parse_phone(phone) {
            Some(number) if number.is_valid() => Some(e164(&number)),
            _ => {
                errors.push(invalid_phone());
                None
            }
        }
    }

    /// Parses a phone number, with the default region only where it applies.
    ///
    /// phonenumber 0.3 reads every number it is given with a region by that region's
    /// national-prefix rules, even a number of another country: with region US it strips the
    /// US prefix `1` from `+49 151 12345678` and returns the different, valid number
    /// `+49 5112345678` (and with region DE it rejects the valid `+39 06 69812345`). So a
    /// number that carries its country code is parsed without the region, and a number that
    /// reaches another country through an international call prefix (`011 49 …` in the US)
    /// is only taken if its digits are the ones that were entered.
    fn parse_phone(&self, phone: &str) -> Option<phonenumber::PhoneNumber> {
        if has_country_code(phone)
            && let Ok(number) = phonenumber::parse(None, phone)
        {
            return Some(number);
        }
        let region = self.default_region?.0;
        let number = phonenumber::parse(Some(region), phone).ok()?;
        let region_code = phonenumber::metadata::DATABASE.by_id(region.as_ref()).map(|m| m.country_code());
        if region_code == Some(number.code().value()) {
            return Some(number);
        }
        let entered: String = phone.chars().filter(char::is_ascii_digit).collect();
        entered.contains(e164(&number).trim_start_matches('+')).then_some(number)
    }
}

/// Whether a phone number is written with its country code (`+49 …`, `(+49) …`,
/// `tel:+49…`, or a fullwidth `＋`); only such numbers can be read without a region.
fn has_country_code(phone: &str) -> bool {
    phone.contains(['+', '\u{ff0b}'])
}

fn e164(number: &phonenumber::PhoneNumber) -> String {
    number.format().mode(phonenumber::Mode::E164).to_string()
}

fn invalid_phone() -> FieldError {
    FieldError::new(ContactField::Phone.name(), code::INVALID_PHONE, "is not a valid phone number")
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

/// The seven text fields after normalization, checked with the `validator` crate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Validate)]
pub(crate) struct Fields {
    #[validate(length(max = 50), non_control_character)]
    pub(crate) title: Option<String>,
    #[validate(length(max = 100), non_control_character, custom(function = "person_name"))]
    pub(crate) first_name: Option<String>,
    #[validate(length(max = 100), non_control_character, custom(function = "person_name"))]
    pub(crate) last_name: Option<String>,
    #[validate(length(max = 32), non_control_character)]
    pub(crate) phone: Option<String>,
    #[validate(length(max = 254), non_control_character, email)]
    pub(crate) email: Option<String>,
    #[validate(length(max = 500), non_control_character)]
    pub(crate) address: Option<String>,
    #[validate(length(max = 100), non_control_character)]
    pub(crate) relationship: Option<String>,
}

impl Fields {
    pub(crate) fn get(&self, field: ContactField) -> Option<&str> {
        contact_field!(field => &self).as_deref()
    }

    fn slot_mut(&mut self, field: ContactField) -> &mut Option<String> {
        contact_field!(field => &mut self)
    }

    fn has_someone_to_contact(&self) -> bool {
        ContactField::REACHABLE.into_iter().any(|f| self.get(f).is_some())
    }

    /// Runs the derived rules and turns their report into renraku's errors: in field order,
    /// with renraku's codes and messages, and without the `value` parameter that `validator`
    /// attaches (it holds the rejected input).
    fn check(&self) -> ValidationErrors {
        let Err(report) = self.validate() else { return ValidationErrors::default() };
        let by_field = report.field_errors();
        let mut errors = ValidationErrors::default();
        for field in ContactField::ALL {
            for error in by_field.get(field.name()).into_iter().flat_map(|e| e.iter()) {
                errors.push(translate(field, &error.code));
            }
        }
        errors
    }
}

fn translate(field: ContactField, validator_code: &str) -> FieldError {
    let name = field.name();
    match validator_code {
        "length" => {
            let max = max_chars(field);
            FieldError::new(name, code::TOO_LONG, format!("must be at most {max} characters"))
        }
        "non_control_character" => {
            FieldError::new(name, code::CONTROL_CHARACTER, "must not contain control characters")
        }
        "email" => FieldError::new(name, code::INVALID_EMAIL, "is not a valid email address"),
        _ => FieldError::new(
            name,
            code::INVALID_NAME,
            "may contain only letters, spaces, apostrophes, hyphens and periods",
        ),
    }
}

/// The longest value of each field, in characters (the `length` rules above).
#[must_use]
pub const fn max_chars(field: ContactField) -> usize {
    match field {
        ContactField::Title => 50,
        ContactField::FirstName | ContactField::LastName | ContactField::Relationship => 100,
        ContactField::Phone => 32,
        ContactField::Email => 254,
        ContactField::Address => 500,
    }
}

fn person_name(name: &str) -> Result<(), validator::ValidationError> {
    let allowed = |c: char| {
        c.is_alphabetic()
            || is_combining_mark(c)
            || matches!(c, '\'' | '\u{2019}' | '-' | '.')
            // Space separators (U+0020, U+00A0, U+3000, …), not line or paragraph breaks.
            || (c.is_whitespace() && !c.is_control() && !matches!(c, '\u{2028}' | '\u{2029}'))
    };
    if name.chars().all(allowed) { Ok(()) } else { Err(validator::ValidationError::new(code::INVALID_NAME)) }
}

/// A create's input after [`Rules::check_new`]: normalized, valid, with its phone's E.164
/// form. Turn it into a stored contact with [`plan::create`](crate::plan::create).
#[derive(Clone, PartialEq, Eq)]
pub struct ContactDraft {
    pub(crate) fields: Fields,
    pub(crate) phone_e164: Option<String>,
}

impl ContactDraft {
    /// The normalized value of one field.
    #[must_use]
    pub fn field(&self, field: ContactField) -> Option<&str> {
        self.fields.get(field)
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
    pub(crate) fields: [FieldPatch<String>; 7],
    pub(crate) phone_e164: Option<String>,
}

impl CheckedPatch {
    /// What the patch does to one field, after normalization.
    #[must_use]
    pub fn field(&self, field: ContactField) -> &FieldPatch<String> {
        &self.fields[field as usize]
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
