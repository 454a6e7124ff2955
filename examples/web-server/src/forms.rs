//! The contact form as the browser sends it.

use renraku_core::{Contact, ContactField, NewContact};
use serde::Deserialize;

/// The fields of the new and edit forms. Every field is optional text; blank means absent
/// (the core rules trim and drop blank values). No `Debug`: it holds personal values.
#[derive(Default, Deserialize)]
pub(crate) struct ContactForm {
    title: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    address: Option<String>,
    relationship: Option<String>,
    /// The version the edit form was loaded with.
    pub(crate) version: Option<String>,
}

impl ContactForm {
    /// The form filled with a stored contact, for the edit page.
    pub(crate) fn from_contact(contact: &Contact) -> Self {
        let mut form = Self { version: Some(contact.version.to_string()), ..Self::default() };
        for field in ContactField::ALL {
            *form.slot_mut(field) = contact.field(field).map(ToOwned::to_owned);
        }
        form
    }

    /// What the user typed into one field.
    pub(crate) fn value(&self, field: ContactField) -> Option<&str> {
        match field {
            ContactField::Title => self.title.as_deref(),
            ContactField::FirstName => self.first_name.as_deref(),
            ContactField::LastName => self.last_name.as_deref(),
            ContactField::Phone => self.phone.as_deref(),
            ContactField::Email => self.email.as_deref(),
            ContactField::Address => self.address.as_deref(),
            ContactField::Relationship => self.relationship.as_deref(),
        }
    }

    fn slot_mut(&mut self, field: ContactField) -> &mut Option<String> {
        match field {
            ContactField::Title => &mut self.title,
            ContactField::FirstName => &mut self.first_name,
            ContactField::LastName => &mut self.last_name,
            ContactField::Phone => &mut self.phone,
            ContactField::Email => &mut self.email,
            ContactField::Address => &mut self.address,
            ContactField::Relationship => &mut self.relationship,
        }
    }

    /// The input of a create, or (through `ContactPatch::replace_with`) of an update.
    pub(crate) fn to_new_contact(&self) -> NewContact {
        ContactField::ALL.into_iter().fold(NewContact::default(), |input, field| match self.value(field) {
            Some(value) => input.with(field, value),
            None => input,
        })
    }

    /// The version of the edit form, if it is a number.
    pub(crate) fn version(&self) -> Option<u64> {
        self.version.as_deref().and_then(|v| v.trim().parse().ok())
    }
}
