//! The validation rules: [`Rules`] normalizes and checks every input before a backend sees it.
//!
//! Every rule is checked against a reference where one exists, with data the reference
//! produced (the `reference_*` tests of `renraku-core`): phone numbers against
//! libphonenumber, email addresses against the WHATWG rule after IDNA, names against a
//! table of real names in many scripts.
//!
//! | field | rule | accepted | rejected |
//! |---|---|---|---|
//! | every text field | trimmed; blank means absent; every kind of space becomes one ordinary space; NFC | `"  Ada "` → `"Ada"`, `"Mary\u{a0}\u{a0}Ann"` → `"Mary Ann"`, `"   "` → absent | |
//! | every text field | no control characters (code `control_character`); no line breaks but in `address` | | `"Ada\u{7}"`, `"a\nb"` as a name |
//! | every text field | no invisible or reordering characters: bidi controls, zero-width spaces, word joiners, soft hyphens, Hangul fillers, variation selectors, the combining grapheme joiner, tags (code `invisible_character`); a zero-width joiner or non-joiner only after a virama or between letters of a joining script | `علی‌رضا` (ZWNJ), `ශ්‍රී` (ZWJ) | `"a\u{202E}b"`, `"a\u{200B}b"`, `"\u{3164}"`, `"Ad\u{200D}a"` |
//! | every text field | at most 4 combining marks on one character (code `too_many_marks`) | `Nguyễn` | a letter with 5 stacked accents |
//! | `title` | at most 50 characters (code `too_long`) | `"Dr."`, `"Herr"` | 51 characters |
//! | `first_name`, `last_name` | at most 100 characters; letters and marks of any script, spaces, and the punctuation of names: `'` `’` `-` U+2010 U+2011 `.` `·` `・` `゠` `׳` `״` `־` `་` `༌`; at least one letter (code `invalid_name`) | `Zoë-Marie`, `O'Brien`, `Nguyễn`, `李小龙`, `J. R.`, `玛丽·居里`, `Gal·la`, `ジョン・スミス`, `ג׳ורג׳` | `R2D2`, `<b>`, `a;b`, `a@b`, `.`, `-`, `Ⅻ` |
//! | `phone` | at most 32 characters; a valid number for libphonenumber (metadata 9.0.42), read with the default region or, without one, only in international form (codes `invalid_phone`, `missing_country_code`); kept as entered, plus its E.164 form. **Deliberately**: no letters outside a `tel:` URI (libphonenumber drops them or reads them as keypad digits) | `+49 30 1234567`, `030 1234567` (region DE), `(202) 555-0143` (region US), `+7 812 123-45-67`, `+٤٩ ٣٠ ١٢٣٤٥٦٧`, `tel:+49-30-1234567` | `12`, `+49 0`, `030 1234567` without a default region, `+49 18500123456555`, `+49 30 1234567 (office)` |
//! | `email` | at most 254 characters; the WHATWG `type=email` rule after converting the domain with IDNA (UTS 46): one `@`, a local part of ASCII letters, digits and ``.!#$%&'*+/=?^_`{|}~-`` (any letters too with [`Rules::allow_unicode_local_part`]), a domain of letter-digit-hyphen labels (code `invalid_email`). **Deliberately** stricter: at least two labels, no IP literals, no leading, trailing or doubled dot in the local part, at most 64 characters before the `@` and 253 octets after it | `ada@example.org`, `zoe@bücher.de`, `a+tag@sub.example.co.uk` | `ada`, `ada@localhost`, `ada@[127.0.0.1]`, `a..b@x.org`, `.ada@x.org`, `ada@xn--a.org`, `zoë@example.org` (by default) |
//! | `address` | at most 500 characters and 10 lines; line breaks (CR LF, CR, LF) become `\n`, each line is trimmed, empty lines are dropped (code `too_many_lines`) | `"Hauptstraße 1\r\n10115 Berlin"` → two lines | 11 lines |
//! | `relationship` | at most 100 characters | `household`, `colleague` | 101 characters |
//! | the contact | at least one of `first_name`, `last_name`, `phone`, `email` (code `empty_contact`, field `contact`) | a phone number alone | only a title and an address |
//!
//! Lengths count characters (Unicode scalar values) after normalization, not bytes. Errors
//! name the field, a stable code and a message; they never contain the rejected value.
//!
//! The `validator` crate counts the lengths; its email rule is not used (it accepts IP
//! literals, even `ada@evil.com[127.0.0.1]`, doubled dots and undecodable punycode).

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

use crate::contact::{ContactField, ContactPatch, FieldKind, FieldPatch, FieldValues, NewContact};
use crate::error::Error;

mod email;
mod field;
mod name;
mod phone;
mod text;

pub use email::{MAX_DOMAIN_OCTETS, MAX_LOCAL_CHARS};
pub use field::MAX_LINES;
pub use name::NAME_PUNCTUATION;
pub use phone::PhoneRegion;
pub use text::MAX_MARKS_PER_BASE;

/// The stable error codes of [`FieldError::code`].
pub mod code {
    /// A value is longer than its field allows.
    pub const TOO_LONG: &str = "too_long";
    /// A value contains a control character (or a line break, outside `address`).
    pub const CONTROL_CHARACTER: &str = "control_character";
    /// A value contains an invisible or text-reordering character.
    pub const INVISIBLE_CHARACTER: &str = "invisible_character";
    /// A character of a value carries more combining marks than allowed.
    pub const TOO_MANY_MARKS: &str = "too_many_marks";
    /// A multi-line value has more lines than allowed.
    pub const TOO_MANY_LINES: &str = "too_many_lines";
    /// A name has no letter, or a character other than letters, marks, spaces and the
    /// punctuation of names.
    pub const INVALID_NAME: &str = "invalid_name";
    /// A phone number is not a valid number.
    pub const INVALID_PHONE: &str = "invalid_phone";
    /// A national phone number was given but no default region is configured.
    pub const MISSING_COUNTRY_CODE: &str = "missing_country_code";
    /// An email address is not valid.
    pub const INVALID_EMAIL: &str = "invalid_email";
    /// A stored value is not in the form normalization gives (a deserialized contact).
    pub const NOT_NORMALIZED: &str = "not_normalized";
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
    unicode_local_part: bool,
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

    /// Rules that accept letters of any script before the `@` of an email address
    /// (RFC 6531, `zoë@example.org`), which not every mail server delivers; by default only
    /// the ASCII of the WHATWG rule.
    ///
    /// ```
    /// use renraku_core::{ContactField, NewContact, Rules};
    ///
    /// let input = NewContact::default().with(ContactField::Email, "zoë@example.org");
    /// assert!(Rules::default().check_new(input.clone()).is_err());
    /// assert!(Rules::default().allow_unicode_local_part(true).check_new(input).is_ok());
    /// ```
    #[must_use]
    pub fn allow_unicode_local_part(mut self, allow: bool) -> Self {
        self.unicode_local_part = allow;
        self
    }

    /// Whether email addresses may have letters of any script before the `@`.
    #[must_use]
    pub fn unicode_local_part(&self) -> bool {
        self.unicode_local_part
    }

    /// Normalizes and checks the input of a create.
    ///
    /// # Errors
    /// [`Error::Validation`] listing every broken rule.
    pub fn check_new(&self, mut input: NewContact) -> Result<ContactDraft, Error> {
        let values: FieldValues =
            ContactField::ALL.map(|f| input.take(f).and_then(|v| field::normalize(f, &v)));
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
            FieldPatch::Set(value) => field::normalize(f, &value).map_or(FieldPatch::Clear, FieldPatch::Set),
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
            field::check(self, field, value, errors);
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

/// Normalizes a single-line value as every text field is: spaces folded and trimmed, NFC;
/// blank means absent.
///
/// ```
/// use renraku_core::validation::normalize;
///
/// assert_eq!(normalize("  Zoe\u{308} "), Some("Zoë".to_owned()));
/// assert_eq!(normalize("Mary\u{a0}\u{3000}Ann"), Some("Mary Ann".to_owned()));
/// assert_eq!(normalize(" \t "), None);
/// ```
#[must_use]
pub fn normalize(value: &str) -> Option<String> {
    text::normalize_line(value)
}

/// Normalizes a value of `field` as [`Rules`] does before checking it: [`normalize`] for a
/// single-line field; for a multi-line one (the address), line breaks become `\n`, each line
/// is normalized and empty lines are dropped.
///
/// ```
/// use renraku_core::ContactField;
/// use renraku_core::validation::normalize_field;
///
/// let address = normalize_field(ContactField::Address, " Hauptstraße 1 \r\n\r\n10115  Berlin");
/// assert_eq!(address.as_deref(), Some("Hauptstraße 1\n10115 Berlin"));
/// ```
#[must_use]
pub fn normalize_field(field: ContactField, value: &str) -> Option<String> {
    field::normalize(field, value)
}

/// Folds case for case-insensitive search: Unicode full case folding (so `Σ`, `σ` and `ς`
/// fold alike, and `STRASSE` like `Straße`), then NFC. Backends store and compare folded
/// keys, so every backend matches the same way whatever its collation.
///
/// Folding can undo NFC (`İ` becomes `i` and U+0307), so the text is decomposed first and
/// composed again after: folding a folded key changes nothing.
///
/// One step goes beyond Unicode's folding: the Turkish dotless `ı` folds as `i`, because its
/// capital is `I`, which folds to `i`; otherwise `IŞIK` would not find `Işık`. (`İ` folds
/// to `i` and U+0307, as Unicode says.)
///
/// ```
/// use renraku_core::validation::fold_case;
///
/// assert_eq!(fold_case("ΟΔΥΣΣΕΑΣ"), fold_case("Οδυσσέας").replace('έ', "ε"));
/// assert!(fold_case("Οδυσσέας").starts_with(&fold_case("ΟΔΥΣ")));
/// assert_eq!(fold_case("STRASSE"), fold_case("Straße"));
/// assert_eq!(fold_case("IŞIK"), fold_case("Işık"));
/// ```
#[must_use]
pub fn fold_case(value: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let decomposed: String = value.nfd().collect();
    let folded = caseless::default_case_fold_str(&decomposed).replace('\u{131}', "i");
    text::nfc(&folded)
}

/// What can be checked of a stored [`Contact`](crate::Contact) without the rules it was
/// stored with (see its docs): the errors, in field order.
pub(crate) fn check_stored(contact: &crate::Contact) -> ValidationErrors {
    let rules = Rules::default().allow_unicode_local_part(true);
    let mut errors = ValidationErrors::default();
    for field in ContactField::ALL {
        let Some(value) = contact.field(field) else { continue };
        if field::normalize(field, value).as_deref() != Some(value) {
            errors.push(FieldError::new(field.name(), code::NOT_NORMALIZED, "is not in normalized form"));
        } else {
            field::check(&rules, field, value, &mut errors);
        }
    }
    // At most 20 digits: a country code of up to 3 and libphonenumber's longest national
    // number, 17. (E.164 allows 15, but libphonenumber accepts longer numbers, such as German
    // numbers with a direct extension, and the rules follow libphonenumber.)
    let e164_shaped = |e164: &str| {
        e164.strip_prefix('+').is_some_and(|digits| {
            (2..=20).contains(&digits.len())
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !digits.starts_with('0')
        })
    };
    match (&contact.phone, &contact.phone_e164) {
        (Some(_), Some(e164)) if e164_shaped(e164) => {}
        (None, None) => {}
        _ => errors.push(FieldError::new(
            "phone_e164",
            code::INVALID_PHONE,
            "must be the E.164 form of the phone number, present exactly when the phone number is",
        )),
    }
    if !ContactField::REACHABLE.into_iter().any(|f| contact.field(f).is_some()) {
        errors.push(empty_contact());
    }
    if contact.version == 0 {
        errors.push(FieldError::new("version", code::RANGE, "must be at least 1"));
    }
    if contact.updated_at < contact.created_at {
        errors.push(FieldError::new("updated_at", code::RANGE, "must not be before created_at"));
    }
    errors
}

/// The text policy of a single-line value (see the table): the code of the first rule it
/// breaks.
pub(crate) fn check_text(value: &str) -> Result<(), &'static str> {
    text::check(value, false)
}

/// The error of a broken rule of `field`, with its message.
fn field_error(field: ContactField, broken: &'static str) -> FieldError {
    FieldError::new(field.name(), broken, field::message(field, broken))
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
