//! Contact data in the scope of a case: who the people connected to a case are, how to
//! reach them, and who changed what.
//!
//! `renraku-core` holds everything that does not depend on where the data is stored:
//!
//! - the domain: [`Contact`], [`Case`], [`CaseId`], [`ContactId`], [`Actor`],
//!   [`AuditEvent`], and the inputs [`NewContact`] and [`ContactPatch`];
//! - the validation [`Rules`] (see the [`validation`] module for the table of rules);
//! - the [`ContactRepository`] trait and its contract;
//! - the change [`feed`]: every audit event across cases, in a stable order, for hosts
//!   that forward changes elsewhere;
//! - [`plan`]: the domain logic of every mutation (versions, changed fields, audit events)
//!   as plain functions that backends call, so that every backend behaves the same;
//! - one [`Error`] type whose messages never contain personal data.
//!
//! Backends: `renraku-memory` (in memory, for embedding and tests) and `renraku-postgres`.
//!
//! # Quickstart
//!
//! A host application holds an `Arc<dyn ContactRepository>` and calls it with the case id
//! of its own records and the id of the user who acts:
//!
//! ```
//! use std::sync::Arc;
//! use renraku_core::{Actor, CaseId, ContactField, ContactPatch, ContactRepository, NewContact};
//!
//! async fn record_household(repo: Arc<dyn ContactRepository>) -> renraku_core::Result<()> {
//!     let case: CaseId = "42".parse()?;
//!     let clerk = Actor::new("user-17")?;
//!
//!     let contact = repo.create(&case, NewContact {
//!         title: Some("Frau".into()),
//!         last_name: Some("Nguyễn".into()),
//!         phone: Some("+49 30 1234567".into()),
//!         relationship: Some("household".into()),
//!         ..NewContact::default()
//!     }, &clerk).await?;
//!
//!     // Update only if nobody changed the contact since we read it.
//!     let patch = ContactPatch::default().set(ContactField::Email, "nguyen@example.org");
//!     let updated = repo.update(&case, contact.id, patch, Some(contact.version), &clerk).await?;
//!     assert_eq!(updated.version, 2);
//!     Ok(())
//! }
//! ```
//!
//! # Features
//!
//! - `mock`: the `mock` module: `MockContactRepository`, a [mockall](https://docs.rs/mockall)
//!   mock of the trait, mockall's `Sequence` and `predicate`, and builders of contacts and
//!   cases, for the unit tests of host applications.
//! - `testkit`: the conformance suite every backend must pass, and the
//!   `conformance_tests!` macro that runs it. It wipes data and is not covered by semver.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod access;
mod actor;
mod audit;
mod case;
mod contact;
mod error;
pub mod feed;
mod id;
#[cfg(feature = "mock")]
pub mod mock;
mod page;
pub mod plan;
mod privacy;
mod repository;
mod search;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod validation;

pub use actor::Actor;
pub use audit::{AuditAction, AuditEvent};
pub use case::Case;
pub use contact::{Contact, ContactField, ContactPatch, FieldKind, FieldPatch, NewContact, UnknownName};
pub use error::{BoxError, Error, IdKind, Result};
pub use feed::{FeedCursor, FeedPage};
pub use id::{AuditEventId, CaseId, ContactId};
pub use page::{Cursor, Page, PageLimit, PageRequest};
pub use privacy::{ContactRef, PersonRecord, Purged};
#[cfg(feature = "mock")]
pub use repository::MockContactRepository;
pub use repository::{ContactRepository, ContactRepositoryExt};

/// The attribute macro that implementations of [`ContactRepository`] and
/// [`AccessPolicy`](access::AccessPolicy) use (from the `async-trait` crate), re-exported
/// so that a host implementing them needs no dependency of its own.
pub use async_trait::async_trait;
pub use search::{ContactQuery, SearchKey, SearchKeys};
pub use validation::{CheckedPatch, ContactDraft, FieldError, PhoneRegion, Rules, ValidationErrors};
