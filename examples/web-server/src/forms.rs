//! The contact form as the browser sends it.

use renraku_core::{Contact, ContactField, NewContact};
use serde::{Deserialize, Deserializer};

/// The fields of the new and edit forms, named like [`ContactField::name`]. Every field is
/// optional text; blank means absent (the core rules trim and drop blank values). Other
/// form fields (the CSRF token) are ignored. No `Debug`: it holds personal values.
#[derive(Default)]
pub(crate) struct ContactForm {
    values: [Option<String>; ContactField::COUNT],
    /// The version the edit form was loaded with.
    version: Option<String>,
}

impl<'de> Deserialize<'de> for ContactForm {
    /// Reads the fields by name; a field sent twice makes the form unreadable (which of the
    /// two did the user mean?).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut form = Self::default();
        for (name, value) in Vec::<(String, String)>::deserialize(deserializer)? {
            let slot = match name.parse::<ContactField>() {
                Ok(field) => &mut form.values[field.index()],
                Err(_) if name == "version" => &mut form.version,
                Err(_) => continue,
            };
            if slot.replace(value).is_some() {
                return Err(serde::de::Error::custom("a field was sent twice"));
            }
        }
        Ok(form)
    }
}

impl ContactForm {
    /// The form filled with a stored contact, for the edit page.
    pub(crate) fn from_contact(contact: &Contact) -> Self {
        Self {
            values: ContactField::ALL.map(|f| contact.field(f).map(ToOwned::to_owned)),
            version: Some(contact.version.to_string()),
        }
    }

    /// What the user typed into one field.
    pub(crate) fn value(&self, field: ContactField) -> Option<&str> {
        self.values[field.index()].as_deref()
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
