//! What a host's unit tests need besides a real store (feature `mock`): a mockall mock of
//! the trait, mockall's [`Sequence`] and [`predicate`] so the host need not pin mockall
//! itself, and builders of [`Contact`]s and [`Case`]s to script answers with, without going
//! through [`plan`](crate::plan).
//!
//! ```
//! use renraku_core::mock::{ContactBuilder, MockContactRepository, Sequence};
//! use renraku_core::{Actor, CaseId, ContactField, ContactRepository, Error};
//!
//! /// Host code under test: the name to greet a contact with.
//! async fn greeting(repo: &dyn ContactRepository, case: &CaseId, id: renraku_core::ContactId) -> String {
//!     match repo.get(case, id, &Actor::new("greeter").unwrap()).await {
//!         Ok(contact) => format!("Hello {}", contact.first_name.as_deref().unwrap_or("there")),
//!         Err(Error::NotFound { .. }) => "Who?".to_owned(),
//!         Err(_) => "Sorry".to_owned(),
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let case = CaseId::new("42").unwrap();
//! let ada = ContactBuilder::new(&case).with(ContactField::FirstName, "Ada").version(3).build();
//! let id = ada.id;
//!
//! let mut repo = MockContactRepository::new();
//! let mut order = Sequence::new();
//! repo.expect_get().times(1).in_sequence(&mut order).returning(move |_, _, _| Ok(ada.clone()));
//! repo.expect_get()
//!     .times(1)
//!     .in_sequence(&mut order)
//!     .returning(|case, id, _| Err(Error::contact_not_found(case, id)));
//!
//! assert_eq!(greeting(&repo, &case, id).await, "Hello Ada");
//! assert_eq!(greeting(&repo, &case, id).await, "Who?");
//! # }
//! ```

use chrono::{DateTime, Utc};

pub use crate::repository::MockContactRepository;
pub use mockall::{Sequence, predicate};

use crate::contact::FieldValues;
use crate::{Actor, Case, CaseId, Contact, ContactField, ContactId};

/// Builds a [`Contact`] as a store would return it, with whatever fields, version, times and
/// actors a test needs. It checks nothing: a test may build what no store would hold.
#[derive(Debug, Clone)]
#[must_use]
pub struct ContactBuilder {
    id: ContactId,
    case_id: CaseId,
    values: FieldValues,
    phone_e164: Option<String>,
    version: u64,
    at: (DateTime<Utc>, DateTime<Utc>),
    by: (Actor, Actor),
}

impl ContactBuilder {
    /// A contact of `case` at version 1, created now by `test`, with no fields.
    pub fn new(case: &CaseId) -> Self {
        let now = crate::plan::now();
        let test = Actor::new("test").expect("a valid actor id");
        Self {
            id: ContactId::new(),
            case_id: case.clone(),
            values: FieldValues::default(),
            phone_e164: None,
            version: 1,
            at: (now, now),
            by: (test.clone(), test),
        }
    }

    /// Sets one field (for the phone, its E.164 form too, to `value` with its digits only).
    pub fn with(mut self, field: ContactField, value: impl Into<String>) -> Self {
        let value = value.into();
        if field == ContactField::Phone {
            let digits: String = value.chars().filter(char::is_ascii_digit).collect();
            self.phone_e164 = Some(format!("+{digits}"));
        }
        self.values[field.index()] = Some(value);
        self
    }

    /// The contact's id.
    pub fn id(mut self, id: ContactId) -> Self {
        self.id = id;
        self
    }

    /// The version.
    pub fn version(mut self, version: u64) -> Self {
        self.version = version;
        self
    }

    /// When it was created and last changed.
    pub fn times(mut self, created_at: DateTime<Utc>, updated_at: DateTime<Utc>) -> Self {
        self.at = (created_at, updated_at);
        self
    }

    /// Who created it and who changed it last.
    pub fn actors(mut self, created_by: Actor, updated_by: Actor) -> Self {
        self.by = (created_by, updated_by);
        self
    }

    /// The contact.
    #[must_use]
    pub fn build(self) -> Contact {
        Contact::from_stored(
            self.id,
            self.case_id,
            self.values,
            self.phone_e164,
            self.version,
            self.at,
            self.by,
        )
    }
}

/// The summary of a case with `contact_count` contacts, created and changed now.
#[must_use]
pub fn case_summary(case: &CaseId, contact_count: u64) -> Case {
    let now = crate::plan::now();
    Case { id: case.clone(), contact_count, first_created_at: now, last_changed_at: now }
}
