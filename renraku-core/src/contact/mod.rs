//! Contacts: the stored [`Contact`], the inputs [`NewContact`] and [`ContactPatch`], and the
//! [`ContactField`]s they share.
//!
//! The three structs have one member per field of the table in [`field`]; they are
//! generated from it, with accessors by [`ContactField`], so that code which handles fields
//! generically never spells them out.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::actor::Actor;
use crate::id::{CaseId, ContactId};
use crate::validation::ValidationErrors;

mod field;

pub use field::{ContactField, FieldKind, UnknownName};
pub(crate) use field::{FieldValues, contact_fields};

macro_rules! define_contact_structs {
    ($( $(#[$doc:meta])* $variant:ident $member:ident $label:literal $kind:ident $max:literal $example:literal; )*) => {
        /// A stored contact: a person connected to a case, and how to reach them.
        ///
        /// Text fields are normalized (trimmed, NFC) and validated by [`Rules`](crate::Rules);
        /// an absent field is `None`, never an empty string. `Debug` redacts every personal
        /// field.
        ///
        /// A contact is what a repository returns; the way in is [`NewContact`] and
        /// [`ContactPatch`]. Deserializing one (from a cache, a queue, an export) checks
        /// what can be checked without the repository's rules: every field normalized and
        /// within its field's rules (phone numbers are not parsed, the default region is
        /// unknown), `phone_e164` present exactly when `phone` is and in E.164 form, someone
        /// to contact, a version of at least 1, and `updated_at` not before `created_at`.
        ///
        /// ```
        /// let json = r#"{"id":"0190b3c2-7a1b-7cc3-8000-000000000001","case_id":"42",
        ///   "title":null,"first_name":"","last_name":null,"phone":null,"email":null,
        ///   "address":null,"relationship":null,"phone_e164":null,"version":1,
        ///   "created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z",
        ///   "created_by":"clerk","updated_by":"clerk"}"#;
        /// let err = serde_json::from_str::<renraku_core::Contact>(json).unwrap_err();
        /// assert!(err.to_string().contains("first_name"), "{err}");
        /// ```
        #[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(try_from = "UncheckedContact")]
        pub struct Contact {
            /// The contact's id.
            pub id: ContactId,
            /// The case the contact belongs to; it never changes.
            pub case_id: CaseId,
            $( $(#[$doc])* pub $member: Option<String>, )*
            /// The phone number in E.164 form (`+4930123456`), present whenever `phone` is.
            pub phone_e164: Option<String>,
            /// Starts at 1 and grows by one with every change that really changes something.
            pub version: u64,
            /// When the contact was created.
            pub created_at: DateTime<Utc>,
            /// When the contact last changed.
            pub updated_at: DateTime<Utc>,
            /// Who created the contact.
            pub created_by: Actor,
            /// Who changed the contact last.
            pub updated_by: Actor,
        }

        /// A contact as it was deserialized, before [`Contact`]'s checks.
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct UncheckedContact {
            id: ContactId,
            case_id: CaseId,
            $( $member: Option<String>, )*
            phone_e164: Option<String>,
            version: u64,
            created_at: DateTime<Utc>,
            updated_at: DateTime<Utc>,
            created_by: Actor,
            updated_by: Actor,
        }

        impl TryFrom<UncheckedContact> for Contact {
            type Error = ValidationErrors;

            fn try_from(c: UncheckedContact) -> Result<Self, ValidationErrors> {
                let contact = Self {
                    id: c.id,
                    case_id: c.case_id,
                    $( $member: c.$member, )*
                    phone_e164: c.phone_e164,
                    version: c.version,
                    created_at: c.created_at,
                    updated_at: c.updated_at,
                    created_by: c.created_by,
                    updated_by: c.updated_by,
                };
                let errors = crate::validation::check_stored(&contact);
                if errors.is_empty() { Ok(contact) } else { Err(errors) }
            }
        }

        impl Contact {
            fn slot(&self, field: ContactField) -> &Option<String> {
                match field { $(ContactField::$variant => &self.$member,)* }
            }

            pub(crate) fn field_mut(&mut self, field: ContactField) -> &mut Option<String> {
                match field { $(ContactField::$variant => &mut self.$member,)* }
            }

            /// Reassembles a stored contact from its parts, the field values in
            /// [`ContactField::ALL`] order: for backends that read contacts back. It checks
            /// nothing; backends store only what [`plan`](crate::plan) produced.
            ///
            /// ```
            /// # use renraku_core::{plan, Actor, CaseId, Contact, ContactField, NewContact, Rules};
            /// # let c = plan::create(&Rules::default(), &CaseId::new("7")?, NewContact { first_name: Some("Ada".into()), ..NewContact::default() }, &Actor::new("a")?)?.contact;
            /// let values = ContactField::ALL.map(|f| c.field(f).map(str::to_owned));
            /// let again = Contact::from_stored(
            ///     c.id, c.case_id.clone(), values, c.phone_e164.clone(), c.version,
            ///     (c.created_at, c.updated_at), (c.created_by.clone(), c.updated_by.clone()),
            /// );
            /// assert_eq!(again, c);
            /// # Ok::<(), renraku_core::Error>(())
            /// ```
            #[must_use]
            pub fn from_stored(
                id: ContactId,
                case_id: CaseId,
                values: [Option<String>; ContactField::COUNT],
                phone_e164: Option<String>,
                version: u64,
                (created_at, updated_at): (DateTime<Utc>, DateTime<Utc>),
                (created_by, updated_by): (Actor, Actor),
            ) -> Self {
                let [$($member),*] = values;
                Self { id, case_id, $($member,)* phone_e164, version, created_at, updated_at, created_by, updated_by }
            }
        }

        /// The input of a create: every field optional, validated and normalized by
        /// [`Rules`](crate::Rules) before anything is stored.
        ///
        /// A contact needs someone to contact: at least one of first name, last name, phone
        /// or email. `Debug` redacts every field.
        ///
        /// ```
        /// use renraku_core::NewContact;
        ///
        /// let input = NewContact {
        ///     first_name: Some("Ada".into()),
        ///     phone: Some("+44 20 7946 0958".into()),
        ///     ..NewContact::default()
        /// };
        /// assert_eq!(format!("{input:?}").contains("Ada"), false);
        /// ```
        #[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct NewContact {
            $( $(#[$doc])* pub $member: Option<String>, )*
        }

        impl NewContact {
            fn slot(&self, field: ContactField) -> &Option<String> {
                match field { $(ContactField::$variant => &self.$member,)* }
            }

            fn slot_mut(&mut self, field: ContactField) -> &mut Option<String> {
                match field { $(ContactField::$variant => &mut self.$member,)* }
            }
        }

        /// The input of an update: per field, keep, set or clear.
        ///
        /// The case of a contact cannot be changed, so a patch has no case id. An update must leave
        /// someone to contact (one of first name, last name, phone or email); to remove a contact,
        /// delete it. `Debug` never shows values.
        ///
        /// ```
        /// use renraku_core::{ContactField, ContactPatch, FieldPatch};
        ///
        /// let patch = ContactPatch::default()
        ///     .set(ContactField::Phone, "+49 30 1234567")
        ///     .clear(ContactField::Email);
        /// assert_eq!(patch.phone, FieldPatch::Set("+49 30 1234567".to_owned()));
        ///
        /// // JSON merge-patch: missing keeps, null clears, a string sets.
        /// let json: ContactPatch = serde_json::from_str(r#"{"email": null, "title": "Dr."}"#)?;
        /// assert_eq!(json.email, FieldPatch::Clear);
        /// assert_eq!(json.first_name, FieldPatch::Keep);
        /// # Ok::<(), serde_json::Error>(())
        /// ```
        #[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct ContactPatch {
            $(
                $(#[$doc])*
                #[serde(skip_serializing_if = "FieldPatch::is_keep")]
                pub $member: FieldPatch<String>,
            )*
        }

        impl ContactPatch {
            fn slot(&self, field: ContactField) -> &FieldPatch<String> {
                match field { $(ContactField::$variant => &self.$member,)* }
            }

            fn slot_mut(&mut self, field: ContactField) -> &mut FieldPatch<String> {
                match field { $(ContactField::$variant => &mut self.$member,)* }
            }
        }
    };
}

contact_fields!(define_contact_structs);

impl Contact {
    /// A contact at version 1 with the given field values, created at `at` by `actor`.
    pub(crate) fn first_version(
        id: ContactId,
        case_id: CaseId,
        values: FieldValues,
        phone_e164: Option<String>,
        at: DateTime<Utc>,
        actor: &Actor,
    ) -> Self {
        let actor = actor.as_recorded();
        Self::from_stored(id, case_id, values, phone_e164, 1, (at, at), (actor.clone(), actor))
    }

    /// The value of one personal text field.
    ///
    /// ```
    /// # use renraku_core::{plan, Actor, CaseId, ContactField, NewContact, Rules};
    /// # let case = CaseId::new("42")?;
    /// # let actor = Actor::new("clerk-7")?;
    /// let input = NewContact { last_name: Some("Lovelace".into()), ..NewContact::default() };
    /// let contact = plan::create(&Rules::default(), &case, input, &actor)?.contact;
    /// assert_eq!(contact.field(ContactField::LastName), Some("Lovelace"));
    /// assert_eq!(contact.field(ContactField::Email), None);
    /// # Ok::<(), renraku_core::Error>(())
    /// ```
    #[must_use]
    pub fn field(&self, field: ContactField) -> Option<&str> {
        self.slot(field).as_deref()
    }

    /// The fields that have a value, in [`ContactField::ALL`] order.
    pub fn present_fields(&self) -> impl Iterator<Item = ContactField> + '_ {
        ContactField::ALL.into_iter().filter(|f| self.field(*f).is_some())
    }
}

impl fmt::Debug for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Contact");
        s.field("id", &self.id).field("case_id", &self.case_id);
        for field in ContactField::ALL {
            s.field(field.name(), &Redacted(self.slot(field)));
        }
        s.field("phone_e164", &Redacted(&self.phone_e164))
            .field("version", &self.version)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .field("created_by", &self.created_by)
            .field("updated_by", &self.updated_by)
            .finish()
    }
}

impl NewContact {
    /// The value given for one field.
    #[must_use]
    pub fn field(&self, field: ContactField) -> Option<&str> {
        self.slot(field).as_deref()
    }

    /// Sets one field, for code that handles fields generically.
    ///
    /// ```
    /// use renraku_core::{ContactField, NewContact};
    ///
    /// let input = NewContact::default().with(ContactField::Email, "ada@example.org");
    /// assert_eq!(input.email.as_deref(), Some("ada@example.org"));
    /// ```
    #[must_use]
    pub fn with(mut self, field: ContactField, value: impl Into<String>) -> Self {
        *self.slot_mut(field) = Some(value.into());
        self
    }

    /// Moves one field's value out, for the validation rules.
    pub(crate) fn take(&mut self, field: ContactField) -> Option<String> {
        self.slot_mut(field).take()
    }
}

impl fmt::Debug for NewContact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("NewContact");
        for field in ContactField::ALL {
            s.field(field.name(), &Redacted(self.slot(field)));
        }
        s.finish()
    }
}

/// What an update does to one field: keep it, set it, or clear it.
///
/// In serde (the JSON merge-patch convention): a missing key keeps the field, `null` clears
/// it, a string sets it. Setting a field to a blank string clears it too, because blank
/// means absent. `Debug` never shows the value.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum FieldPatch<T> {
    /// Leave the field as it is.
    #[default]
    Keep,
    /// Give the field this value.
    Set(T),
    /// Remove the field's value.
    Clear,
}

impl<T> FieldPatch<T> {
    /// `true` for [`FieldPatch::Keep`].
    #[must_use]
    pub const fn is_keep(&self) -> bool {
        matches!(self, Self::Keep)
    }

    /// Maps the value of a [`FieldPatch::Set`].
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> FieldPatch<U> {
        match self {
            Self::Keep => FieldPatch::Keep,
            Self::Set(value) => FieldPatch::Set(f(value)),
            Self::Clear => FieldPatch::Clear,
        }
    }
}

impl<T> From<Option<T>> for FieldPatch<T> {
    /// `Some` sets, `None` clears: the shape of a form that always sends every field.
    fn from(value: Option<T>) -> Self {
        value.map_or(Self::Clear, Self::Set)
    }
}

impl<T> fmt::Debug for FieldPatch<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Keep => "Keep",
            Self::Set(_) => "Set([redacted])",
            Self::Clear => "Clear",
        })
    }
}

impl<T: Serialize> Serialize for FieldPatch<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            // `ContactPatch` skips kept fields, so `null` only ever means "clear".
            Self::Keep | Self::Clear => serializer.serialize_none(),
            Self::Set(value) => serializer.serialize_some(value),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for FieldPatch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Only present keys reach this; missing keys take the `#[serde(default)]` (Keep).
        Ok(Option::<T>::deserialize(deserializer)?.into())
    }
}

impl ContactPatch {
    /// A patch that sets `field` to `value` (and keeps what it kept before).
    #[must_use]
    pub fn set(mut self, field: ContactField, value: impl Into<String>) -> Self {
        *self.slot_mut(field) = FieldPatch::Set(value.into());
        self
    }

    /// A patch that clears `field` (and keeps what it kept before).
    #[must_use]
    pub fn clear(mut self, field: ContactField) -> Self {
        *self.slot_mut(field) = FieldPatch::Clear;
        self
    }

    /// A patch that replaces every field with the given input: the shape of an edit form,
    /// which always sends every field.
    ///
    /// ```
    /// use renraku_core::{ContactPatch, FieldPatch, NewContact};
    ///
    /// let form = NewContact { first_name: Some("Ada".into()), ..NewContact::default() };
    /// let patch = ContactPatch::replace_with(form);
    /// assert_eq!(patch.first_name, FieldPatch::Set("Ada".to_owned()));
    /// assert_eq!(patch.email, FieldPatch::Clear);
    /// ```
    #[must_use]
    pub fn replace_with(mut input: NewContact) -> Self {
        let mut patch = Self::default();
        for field in ContactField::ALL {
            *patch.slot_mut(field) = input.take(field).into();
        }
        patch
    }

    /// What the patch does to one field.
    #[must_use]
    pub fn field(&self, field: ContactField) -> &FieldPatch<String> {
        self.slot(field)
    }

    /// Moves one field's patch out, for the validation rules.
    pub(crate) fn take(&mut self, field: ContactField) -> FieldPatch<String> {
        std::mem::take(self.slot_mut(field))
    }
}

impl fmt::Debug for ContactPatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("ContactPatch");
        for field in ContactField::ALL {
            s.field(field.name(), self.field(field));
        }
        s.finish()
    }
}

/// Shows whether an optional personal value is there, never what it is.
pub(crate) struct Redacted<'a>(pub(crate) &'a Option<String>);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(_) => f.write_str("\"[redacted]\""),
            None => f.write_str("None"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_inputs_redacts_every_value() {
        let secret = "Zoë-Marie O'Brien +49301234567 zoe@example.org Hauptstraße 1";
        let mut input = NewContact::default();
        let mut patch = ContactPatch::default();
        for field in ContactField::ALL {
            input = input.with(field, secret);
            patch = patch.set(field, secret);
        }
        for debug in [format!("{input:?}"), format!("{patch:?}"), format!("{input:#?}")] {
            assert!(!debug.contains("Zo"), "{debug}");
            assert!(debug.contains("redacted"), "{debug}");
        }
    }

    #[test]
    fn patch_json_follows_merge_patch() {
        let patch: ContactPatch = serde_json::from_str(r#"{"first_name":"Ada","email":null}"#).unwrap();
        assert_eq!(patch.first_name, FieldPatch::Set("Ada".into()));
        assert_eq!(patch.email, FieldPatch::Clear);
        assert_eq!(patch.phone, FieldPatch::Keep);
        assert_eq!(serde_json::to_string(&patch).unwrap(), r#"{"first_name":"Ada","email":null}"#);
        assert!(serde_json::from_str::<ContactPatch>(r#"{"case_id":"7"}"#).is_err());
    }

    #[test]
    fn replace_with_sets_given_and_clears_missing() {
        let patch = ContactPatch::replace_with(NewContact::default().with(ContactField::Phone, "1"));
        for field in ContactField::ALL {
            let expected =
                if field == ContactField::Phone { FieldPatch::Set("1".into()) } else { FieldPatch::Clear };
            assert_eq!(patch.field(field), &expected);
        }
    }
}
