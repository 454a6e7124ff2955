//! Phone numbers on libphonenumber (the `rlibphonenumber` port): the default
//! [`PhoneRegion`], and reading a number into its E.164 form.

use std::fmt;
use std::str::FromStr;

use rlibphonenumber::{PHONE_NUMBER_UTIL, PhoneNumberFormat, Region};

use super::{FieldError, Rules, ValidationErrors, code, text};
use crate::contact::ContactField;
use crate::error::Error;

/// The region whose national phone numbers need no country code, such as `DE` or `US`:
/// one of the regions libphonenumber has metadata for.
///
/// ```
/// use renraku_core::PhoneRegion;
///
/// let region: PhoneRegion = "de".parse()?;
/// assert_eq!(region.to_string(), "DE");
/// assert!("XX".parse::<PhoneRegion>().is_err());
/// # Ok::<(), renraku_core::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PhoneRegion(Region);

impl FromStr for PhoneRegion {
    type Err = Error;

    /// Parses an ISO 3166-1 alpha-2 region code, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // `Region` has a variant for every pair of letters; only regions with a country
        // calling code have metadata (`XX`, `UK` and `001` have none).
        Region::from_code(&s.trim().to_ascii_uppercase())
            .ok()
            .filter(|region| PHONE_NUMBER_UTIL.get_country_code_for_region(*region).is_some())
            .map(Self)
            .ok_or_else(|| {
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
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for PhoneRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneRegion({self})")
    }
}

impl Rules {
    /// The E.164 form of a phone number, under these rules.
    ///
    /// ```
    /// use renraku_core::Rules;
    ///
    /// let rules = Rules::default().with_default_region("GB".parse()?);
    /// assert_eq!(rules.normalize_phone("020 7946 0958")?, "+442079460958");
    /// assert_eq!(rules.normalize_phone("+7 812 123-45-67")?, "+78121234567");
    /// assert!(rules.normalize_phone("+44 20 7946 0958 (office)").is_err(), "no letters");
    /// # Ok::<(), renraku_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Validation`] for the field `phone`.
    pub fn normalize_phone(&self, phone: &str) -> Result<String, Error> {
        let mut errors = ValidationErrors::default();
        let normalized = text::normalize_line(phone).unwrap_or_default();
        if let Err(code) = text::check(&normalized, false) {
            errors.push(super::field_error(ContactField::Phone, code));
            return Err(errors.into());
        }
        match self.phone_e164(&normalized, &mut errors) {
            Some(e164) => Ok(e164),
            None => Err(errors.into()),
        }
    }

    /// The E.164 form of a normalized phone number, or an error in `errors`.
    ///
    /// The rule is libphonenumber's: the number read with the default region (or none) must
    /// be a valid number. One deliberate difference: letters are refused outside a `tel:`
    /// URI, because libphonenumber drops them or reads them as keypad digits, so that
    /// `+49 30 1234567 (office)` would become another, valid number.
    pub(super) fn phone_e164(&self, phone: &str, errors: &mut ValidationErrors) -> Option<String> {
        let is_tel_uri = phone.get(..4).is_some_and(|scheme| scheme.eq_ignore_ascii_case("tel:"));
        if !is_tel_uri && phone.chars().any(char::is_alphabetic) {
            errors.push(FieldError::new(
                ContactField::Phone.name(),
                code::INVALID_PHONE,
                "is not a valid phone number: it may hold digits, spaces and + ( ) - . / but no letters",
            ));
            return None;
        }
        let region = self.default_region().map(|r| r.0);
        match PHONE_NUMBER_UTIL.parse(phone, region) {
            Ok(number) if PHONE_NUMBER_UTIL.is_valid_number(&number) => {
                Some(PHONE_NUMBER_UTIL.format(&number, PhoneNumberFormat::E164).into_owned())
            }
            Err(_) if region.is_none() && !phone.contains(['+', '\u{ff0b}']) => {
                errors.push(FieldError::new(
                    ContactField::Phone.name(),
                    code::MISSING_COUNTRY_CODE,
                    "needs a country code such as +49, because no default region is set",
                ));
                None
            }
            _ => {
                errors.push(FieldError::new(
                    ContactField::Phone.name(),
                    code::INVALID_PHONE,
                    "is not a valid phone number",
                ));
                None
            }
        }
    }
}
