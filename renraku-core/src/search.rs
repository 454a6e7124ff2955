//! Search across cases: [`ContactQuery`] in, [`SearchKey`] to match.

use std::fmt;

use crate::contact::{Contact, ContactField, Redacted};
use crate::error::Error;
use crate::validation::{FieldError, Rules, ValidationErrors, code, fold_case, max_chars, normalize};

/// What to look for across cases.
///
/// Search crosses case scopes on purpose (to find the same person in several cases), so a
/// host must check that its user may search before it calls
/// [`ContactRepository::find`](crate::ContactRepository::find). `Debug` redacts the value.
///
/// ```
/// use renraku_core::{ContactQuery, Rules, SearchKey};
///
/// let rules = Rules::default().with_default_region("DE".parse()?);
/// let key = rules.check_query(ContactQuery::Phone("030 / 123 45 67".into()))?;
/// assert_eq!(key, SearchKey::Phone("+49301234567".into()));
/// let key = rules.check_query(ContactQuery::Email(" Ada@Example.ORG".into()))?;
/// assert_eq!(key, SearchKey::Email("ada@example.org".into()));
/// # Ok::<(), renraku_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub enum ContactQuery {
    /// Contacts with this phone number, however either side is formatted (compares E.164).
    Phone(String),
    /// Contacts with this email address, ignoring case.
    Email(String),
    /// Contacts whose first or last name starts with this text, ignoring case.
    NamePrefix(String),
}

impl fmt::Debug for ContactQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Phone(_) => "Phone([redacted])",
            Self::Email(_) => "Email([redacted])",
            Self::NamePrefix(_) => "NamePrefix([redacted])",
        })
    }
}

/// A checked [`ContactQuery`]: the normalized key that backends compare with stored keys.
#[derive(Clone, PartialEq, Eq)]
pub enum SearchKey {
    /// An E.164 phone number, compared with [`Contact::phone_e164`].
    Phone(String),
    /// A case-folded email address, compared with the folded [`Contact::email`].
    Email(String),
    /// A case-folded prefix, compared with the start of the folded first and last names.
    NamePrefix(String),
}

impl SearchKey {
    /// The normalized key.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Phone(key) | Self::Email(key) | Self::NamePrefix(key) => key,
        }
    }

    /// Whether a contact with these search keys matches: the reference semantics every
    /// backend implements.
    #[must_use]
    pub fn matches_keys(&self, keys: &SearchKeys) -> bool {
        match self {
            Self::Phone(e164) => keys.phone.as_deref() == Some(e164.as_str()),
            Self::Email(email) => keys.email.as_deref() == Some(email.as_str()),
            Self::NamePrefix(prefix) => keys.names().any(|name| name.starts_with(prefix.as_str())),
        }
    }

    /// Whether `contact` matches: [`matches_keys`](Self::matches_keys) with its keys.
    ///
    /// ```
    /// # use renraku_core::{Actor, CaseId, ContactQuery, NewContact, Rules, plan};
    /// # let rules = Rules::default();
    /// # let case = CaseId::new("7")?;
    /// # let actor = Actor::new("clerk")?;
    /// let input = NewContact { last_name: Some("Nguyễn".into()), ..NewContact::default() };
    /// let contact = plan::create(&rules, &case, input, &actor)?.contact;
    /// let key = rules.check_query(ContactQuery::NamePrefix("NGUY".into()))?;
    /// assert!(key.matches(&contact));
    /// # Ok::<(), renraku_core::Error>(())
    /// ```
    #[must_use]
    pub fn matches(&self, contact: &Contact) -> bool {
        self.matches_keys(&SearchKeys::of(contact))
    }
}

/// The keys a contact is found by: its E.164 phone number, its case-folded email address
/// and its case-folded first and last names.
///
/// Derived from a [`Contact`] in one place, here: a backend stores them beside the contact
/// (every [`ContactChange`](crate::plan::ContactChange) carries them) and compares them
/// with a [`SearchKey`], never computing them itself. `Debug` redacts them.
///
/// ```
/// # use renraku_core::{Actor, CaseId, NewContact, Rules, SearchKeys, plan};
/// # let (case, actor) = (CaseId::new("7")?, Actor::new("clerk")?);
/// let input = NewContact { last_name: Some("Nguyễn".into()), email: Some("Ada@Example.ORG".into()), ..NewContact::default() };
/// let change = plan::create(&Rules::default(), &case, input, &actor)?;
/// assert_eq!(change.keys, SearchKeys::of(&change.contact));
/// assert_eq!(change.keys.email.as_deref(), Some("ada@example.org"));
/// assert_eq!(change.keys.last_name.as_deref(), Some("nguyễn"));
/// # Ok::<(), renraku_core::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct SearchKeys {
    /// The phone number in E.164 form.
    pub phone: Option<String>,
    /// The case-folded email address.
    pub email: Option<String>,
    /// The case-folded first name.
    pub first_name: Option<String>,
    /// The case-folded last name.
    pub last_name: Option<String>,
}

impl SearchKeys {
    /// How keys are derived, as a number that grows with every change of it; a backend
    /// that stores keys recomputes them when it finds older ones. 1: lowercase; 2: Unicode
    /// full case folding (`Σ`, `σ`, `ς` alike; `ß` as `ss`); 3: and the dotless `ı` as `i`
    /// (so that `IŞIK` finds `Işık`).
    pub const VERSION: u32 = 3;

    /// The keys of `contact`.
    #[must_use]
    pub fn of(contact: &Contact) -> Self {
        Self {
            phone: contact.phone_e164.clone(),
            email: contact.email.as_deref().map(fold_case),
            first_name: contact.first_name.as_deref().map(fold_case),
            last_name: contact.last_name.as_deref().map(fold_case),
        }
    }

    /// The name keys that are present: a name-prefix search compares each.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        [&self.first_name, &self.last_name].into_iter().flatten().map(String::as_str)
    }
}

impl fmt::Debug for SearchKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SearchKeys")
            .field("phone", &Redacted(&self.phone))
            .field("email", &Redacted(&self.email))
            .field("first_name", &Redacted(&self.first_name))
            .field("last_name", &Redacted(&self.last_name))
            .finish()
    }
}

impl fmt::Debug for SearchKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Phone(_) => "Phone([redacted])",
            Self::Email(_) => "Email([redacted])",
            Self::NamePrefix(_) => "NamePrefix([redacted])",
        })
    }
}

impl Rules {
    /// Normalizes a query into the key that backends compare.
    ///
    /// # Errors
    /// [`Error::Validation`] if the query is blank, too long, contains control characters,
    /// or (for a phone) is not a valid phone number.
    pub fn check_query(&self, query: ContactQuery) -> Result<SearchKey, Error> {
        let (field, value) = match &query {
            ContactQuery::Phone(v) => (ContactField::Phone, v),
            ContactQuery::Email(v) => (ContactField::Email, v),
            ContactQuery::NamePrefix(v) => (ContactField::LastName, v),
        };
        let Some(value) = normalize(value) else {
            return Err(query_error(code::REQUIRED, "must not be blank".into()));
        };
        if let Err(broken) = crate::validation::check_text(&value) {
            let message = match broken {
                code::CONTROL_CHARACTER => "must not contain control characters",
                code::INVISIBLE_CHARACTER => {
                    "must not contain invisible characters or text direction controls"
                }
                _ => "must not stack so many accents on one letter",
            };
            return Err(query_error(broken, message.into()));
        }
        let max = max_chars(field);
        if value.chars().count() > max {
            return Err(query_error(code::TOO_LONG, format!("must be at most {max} characters")));
        }
        Ok(match query {
            ContactQuery::Phone(_) => SearchKey::Phone(
                self.normalize_phone(&value)
                    .map_err(|_| query_error(code::INVALID_PHONE, "is not a valid phone number".into()))?,
            ),
            ContactQuery::Email(_) => SearchKey::Email(fold_case(&value)),
            ContactQuery::NamePrefix(_) => SearchKey::NamePrefix(fold_case(&value)),
        })
    }
}

fn query_error(code: &'static str, message: String) -> Error {
    ValidationErrors::from(FieldError::new("query", code, message)).into()
}
