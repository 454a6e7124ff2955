//! Contacts: the stored [`Contact`], the inputs [`NewContact`] and [`ContactPatch`], and the
//! [`ContactField`]s they share.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::actor::Actor;
use crate::id::{CaseId, ContactId};

/// The member of `$holder` (with its `&` or `&mut`) that holds `$field`, for the structs that have one member per
/// contact field: one list of the seven names instead of one per struct and accessor.
macro_rules! contact_field {
    ($field:expr => $($holder:tt)+) => {
        match $field {
            $crate::ContactField::Title => $($holder)+.title,
            $crate::ContactField::FirstName => $($holder)+.first_name,
            $crate::ContactField::LastName => $($holder)+.last_name,
            $crate::ContactField::Phone => $($holder)+.phone,
            $crate::ContactField::Email => $($holder)+.email,
            $crate::ContactField::Address => $($holder)+.address,
            $crate::ContactField::Relationship => $($holder)+.relationship,
        }
    };
}
pub(crate) use contact_field;

/// The personal text fields of a contact, in the order renraku lists them.
///
/// Audit events and validation errors name fields with [`ContactField::name`], which is
/// also the field's name in serde and in the web example's forms.
///
/// ```
/// use renraku_core::ContactField;
///
/// assert_eq!(ContactField::FirstName.name(), "first_name");
/// assert_eq!("phone".parse::<ContactField>(), Ok(ContactField::Phone));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactField {
    /// A salutation or title such as "Frau" or "Dr.".
    Title,
    /// The given name.
    FirstName,
    /// The family name.
    LastName,
    /// A phone number, as entered.
    Phone,
    /// An email address.
    Email,
    /// A postal address.
    Address,
    /// How the person relates to the case, such as "household" or "colleague".
    Relationship,
}

impl ContactField {
    /// Every field, in the order renraku lists them.
    pub const ALL: [Self; 7] = [
        Self::Title,
        Self::FirstName,
        Self::LastName,
        Self::Phone,
        Self::Email,
        Self::Address,
        Self::Relationship,
    ];

    /// The fields of which a contact needs at least one: someone to contact.
    pub const REACHABLE: [Self; 4] = [Self::FirstName, Self::LastName, Self::Phone, Self::Email];

    /// The field's name: `title`, `first_name`, `last_name`, `phone`, `email`, `address`
    /// or `relationship`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Title => "title",
            Self::FirstName => "first_name",
            Self::LastName => "last_name",
            Self::Phone => "phone",
            Self::Email => "email",
            Self::Address => "address",
            Self::Relationship => "relationship",
        }
    }
}

impl fmt::Display for ContactField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing a [`ContactField`] or an [`AuditAction`](crate::AuditAction) from a
/// name it does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown name")]
pub struct UnknownName;

impl FromStr for ContactField {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|f| f.name() == s).ok_or(UnknownName)
    }
}

/// A stored contact: a person connected to a case, and how to reach them.
///
/// Text fields are normalized (trimmed, NFC) and validated by [`Rules`](crate::Rules);
/// an absent field is `None`, never an empty string. `Debug` redacts every personal field.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// The contact's id.
    pub id: ContactId,
    /// The case the contact belongs to; it never changes.
    pub case_id: CaseId,
    /// A salutation or title.
    pub title: Option<String>,
    /// The given name.
    pub first_name: Option<String>,
    /// The family name.
    pub last_name: Option<String>,
    /// The phone number as it was entered (trimmed).
    pub phone: Option<String>,
    /// The phone number in E.164 form (`+4930123456`), present whenever `phone` is.
    pub phone_e164: Option<String>,
    /// The email address.
    pub email: Option<String>,
    /// The postal address.
    pub address: Option<String>,
    /// How the person relates to the case.
    pub relationship: Option<String>,
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

impl Contact {
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
        contact_field!(field => &self).as_deref()
    }

    pub(crate) fn field_mut(&mut self, field: ContactField) -> &mut Option<String> {
        contact_field!(field => &mut self)
    }

    /// The fields that have a value, in [`ContactField::ALL`] order.
    pub fn present_fields(&self) -> impl Iterator<Item = ContactField> + '_ {
        ContactField::ALL.into_iter().filter(|f| self.field(*f).is_some())
    }
}

impl fmt::Debug for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Contact")
            .field("id", &self.id)
            .field("case_id", &self.case_id)
            .field("title", &Redacted(&self.title))
            .field("first_name", &Redacted(&self.first_name))
            .field("last_name", &Redacted(&self.last_name))
            .field("phone", &Redacted(&self.phone))
            .field("phone_e164", &Redacted(&self.phone_e164))
            .field("email", &Redacted(&self.email))
            .field("address", &Redacted(&self.address))
            .field("relationship", &Redacted(&self.relationship))
            .field("version", &self.version)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .field("created_by", &self.created_by)
            .field("updated_by", &self.updated_by)
            .finish()
    }
}

/// The input of a create: every field optional, validated and normalized by
/// [`Rules`](crate::Rules) before anything is stored.
///
/// A contact needs someone to contact: at least one of first name, last name, phone or
/// email. `Debug` redacts every field.
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
    /// A salutation or title.
    pub title: Option<String>,
    /// The given name.
    pub first_name: Option<String>,
    /// The family name.
    pub last_name: Option<String>,
    /// A phone number in any common format.
    pub phone: Option<String>,
    /// An email address.
    pub email: Option<String>,
    /// A postal address.
    pub address: Option<String>,
    /// How the person relates to the case.
    pub relationship: Option<String>,
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

    fn slot(&self, field: ContactField) -> &Option<String> {
        contact_field!(field => &self)
    }

    fn slot_mut(&mut self, field: ContactField) -> &mut Option<String> {
        contact_field!(field => &mut self)
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
    /// What to do with the title.
    #[serde(skip_serializing_if = "FieldPatch::is_keep")]
    pub title: FieldPatch<String>,
    /// What to do with the first name.
    #[serde(skip_serializing_if = "FieldPatch::is_keep")]
    pub first_name: FieldPatch<String>,
    /// What to do with the last name.
    #[serde(skip_serializing_if = "FieldPatch::is_keep")]
    pub last_name: FieldPatch<String>,
    /// What to do with the phone number.
    #[serde(skip_serializing_if = "FieldPatch::is_keep")]
    pub phone: FieldPatch<String>,
    /// What to do with the email address.
    #[serde(skip_serializing_if = "FieldPatch::is_keep")]
    pub email: FieldPatch<String>,
    /// What to do with the address.
    #[serde(skip_serializing_if = "FieldPatch::is_keep")]
    pub address: FieldPatch<String>,
    /// What to do with the relationship.
    #[serde(skip_serializing_if = "FieldPatch::is_keep")]
    pub relationship: FieldPatch<String>,
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
        contact_field!(field => &self)
    }

    fn slot_mut(&mut self, field: ContactField) -> &mut FieldPatch<String> {
        contact_field!(field => &mut self)
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
    fn field_names_round_trip() {
        for field in ContactField::ALL {
            assert_eq!(field.name().parse::<ContactField>(), Ok(field));
            let json = serde_json::to_string(&field).unwrap();
            assert_eq!(json, format!("\"{}\"", field.name()));
        }
        assert_eq!("case_id".parse::<ContactField>(), Err(UnknownName));
    }

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
