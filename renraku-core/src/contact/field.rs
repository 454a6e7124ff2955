//! The one table of contact fields, and [`ContactField`], which names them.
//!
//! Every fact about a field (its name, label, kind, longest value, example) is one line of
//! [`contact_fields!`]. The structs with one member per field ([`Contact`](crate::Contact),
//! [`NewContact`](crate::NewContact), [`ContactPatch`](crate::ContactPatch)), the
//! validation rules, the backends' columns and the web example's forms are all derived from
//! it: adding a field is one line here and one migration in each database backend.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Calls `$callback!` with the table of contact fields, one line each:
/// doc, variant, member, label, kind, longest value in characters, example value.
macro_rules! contact_fields {
    ($callback:ident) => {
        $callback! {
            /// A salutation or title such as "Frau" or "Dr.".
            Title title "Title" Text 50 "Frau Dr.";
            /// The given name.
            FirstName first_name "First name" Name 100 "Zoë-Marie";
            /// The family name.
            LastName last_name "Last name" Name 100 "O'Brien";
            /// A phone number, as entered.
            Phone phone "Phone" Phone 32 "+49 30 1234567";
            /// An email address.
            Email email "Email" Email 254 "Zoe.OBrien@example.org";
            /// A postal address.
            Address address "Address" MultiLine 500 "Hauptstraße 1, 10115 Berlin";
            /// How the person relates to the case, such as "household" or "colleague".
            Relationship relationship "Relationship" Text 100 "household";
        }
    };
}
pub(crate) use contact_fields;

/// What kind of value a field holds, which decides the rules it is checked by (see the
/// [`validation`](crate::validation) module).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldKind {
    /// Free text on one line.
    Text,
    /// Free text that may have several lines, such as a postal address.
    MultiLine,
    /// A person's name: letters, marks, spaces and a little punctuation.
    Name,
    /// A phone number, stored as entered and in E.164 form.
    Phone,
    /// An email address.
    Email,
}

macro_rules! define_contact_field {
    ($( $(#[$doc:meta])* $variant:ident $member:ident $label:literal $kind:ident $max:literal $example:literal; )*) => {
        /// The personal text fields of a contact, in the order renraku lists them.
        ///
        /// Audit events and validation errors name fields with [`ContactField::name`],
        /// which is also the field's name in serde, in the PostgreSQL columns and in the
        /// web example's forms.
        ///
        /// ```
        /// use renraku_core::ContactField;
        ///
        /// assert_eq!(ContactField::FirstName.name(), "first_name");
        /// assert_eq!(ContactField::FirstName.label(), "First name");
        /// assert_eq!("phone".parse::<ContactField>(), Ok(ContactField::Phone));
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum ContactField {
            $( $(#[$doc])* $variant, )*
        }

        impl ContactField {
            /// Every field, in the order renraku lists them.
            pub const ALL: [Self; Self::COUNT] = [$(Self::$variant),*];

            /// How many fields a contact has.
            pub const COUNT: usize = [$(stringify!($variant)),*].len();

            /// The field's name: `first_name`, `phone`, …
            #[must_use]
            pub const fn name(self) -> &'static str {
                match self { $(Self::$variant => stringify!($member),)* }
            }

            /// The field's label for people: `First name`, `Phone`, …
            #[must_use]
            pub const fn label(self) -> &'static str {
                match self { $(Self::$variant => $label,)* }
            }

            /// What kind of value the field holds.
            #[must_use]
            pub const fn kind(self) -> FieldKind {
                match self { $(Self::$variant => FieldKind::$kind,)* }
            }

            /// The longest value the field accepts, in characters (Unicode scalar values)
            /// after normalization.
            #[must_use]
            pub const fn max_chars(self) -> usize {
                match self { $(Self::$variant => $max,)* }
            }

            /// A valid example value, as documentation and test data.
            #[must_use]
            pub const fn example(self) -> &'static str {
                match self { $(Self::$variant => $example,)* }
            }
        }
    };
}

contact_fields!(define_contact_field);

impl ContactField {
    /// The fields of which a contact needs at least one: someone to contact.
    pub const REACHABLE: [Self; 4] = [Self::FirstName, Self::LastName, Self::Phone, Self::Email];

    /// The field's position in [`ContactField::ALL`].
    #[must_use]
    pub const fn index(self) -> usize {
        self as usize
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

/// One value per contact field, indexed by [`ContactField::index`].
pub(crate) type FieldValues = [Option<String>; ContactField::COUNT];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_round_trip() {
        for field in ContactField::ALL {
            assert_eq!(field.name().parse::<ContactField>(), Ok(field));
            let json = serde_json::to_string(&field).unwrap();
            assert_eq!(json, format!("\"{}\"", field.name()));
            assert_eq!(ContactField::ALL[field.index()], field);
        }
        assert_eq!("case_id".parse::<ContactField>(), Err(UnknownName));
    }
}
