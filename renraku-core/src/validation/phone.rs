//! Phone numbers: the default [`PhoneRegion`], and parsing a number into its E.164 form.

use std::fmt;
use std::str::FromStr;

use super::{FieldError, Rules, ValidationErrors, code, normalize};
use crate::contact::ContactField;
use crate::error::Error;

/// The region whose national phone numbers need no country code, such as `DE` or `US`.
///
/// ```
/// use renraku_core::PhoneRegion;
///
/// let region: PhoneRegion = "DE".parse()?;
/// assert_eq!(region.to_string(), "DE");
/// assert!("XX".parse::<PhoneRegion>().is_err());
/// # Ok::<(), renraku_core::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PhoneRegion(phonenumber::country::Id);

impl FromStr for PhoneRegion {
    type Err = Error;

    /// Parses an ISO 3166-1 alpha-2 region code, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        phonenumber::country::Id::from_str(&s.trim().to_ascii_uppercase()).map(Self).map_err(|_| {
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
        f.write_str(self.0.as_ref())
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
    /// # Errors
    /// [`Error::Validation`] for the field `phone`.
    pub fn normalize_phone(&self, phone: &str) -> Result<String, Error> {
        let mut errors = ValidationErrors::default();
        let normalized = normalize(phone).unwrap_or_default();
        match self.phone_e164(&normalized, &mut errors) {
            Some(e164) => Ok(e164),
            None => {
                if errors.is_empty() {
                    errors.push(invalid_phone());
                }
                Err(errors.into())
            }
        }
    }

    /// The E.164 form of a normalized phone number, or an error in `errors`.
    pub(super) fn phone_e164(&self, phone: &str, errors: &mut ValidationErrors) -> Option<String> {
        if !has_country_code(phone) && self.default_region().is_none() {
            errors.push(FieldError::new(
                ContactField::Phone.name(),
                code::MISSING_COUNTRY_CODE,
                "needs a country code such as +49, because no default region is set",
            ));
            return None;
        }
        match self.parse_phone(phone) {
            Some(number) if number.is_valid() => Some(e164(&number)),
            _ => {
                errors.push(invalid_phone());
                None
            }
        }
    }

    /// Parses a phone number, with the default region only where it applies.
    ///
    /// phonenumber 0.3 reads every number it is given with a region by that region's
    /// national-prefix rules, even a number of another country: with region US it strips the
    /// US prefix `1` from `+49 151 12345678` and returns the different, valid number
    /// `+49 5112345678` (and with region DE it rejects the valid `+39 06 69812345`). So a
    /// number that carries its country code is parsed without the region, and a number that
    /// reaches another country through an international call prefix (`011 49 …` in the US)
    /// is only taken if its digits are the ones that were entered.
    fn parse_phone(&self, phone: &str) -> Option<phonenumber::PhoneNumber> {
        if has_country_code(phone)
            && let Ok(number) = phonenumber::parse(None, phone)
        {
            return Some(number);
        }
        let region = self.default_region()?.0;
        let number = phonenumber::parse(Some(region), phone).ok()?;
        let region_code = phonenumber::metadata::DATABASE.by_id(region.as_ref()).map(|m| m.country_code());
        if region_code == Some(number.code().value()) {
            return Some(number);
        }
        let entered: String = phone.chars().filter(char::is_ascii_digit).collect();
        entered.contains(e164(&number).trim_start_matches('+')).then_some(number)
    }
}

/// Whether a phone number is written with its country code (`+49 …`, `(+49) …`,
/// `tel:+49…`, or a fullwidth `＋`); only such numbers can be read without a region.
fn has_country_code(phone: &str) -> bool {
    phone.contains(['+', '\u{ff0b}'])
}

fn e164(number: &phonenumber::PhoneNumber) -> String {
    number.format().mode(phonenumber::Mode::E164).to_string()
}

fn invalid_phone() -> FieldError {
    FieldError::new(ContactField::Phone.name(), code::INVALID_PHONE, "is not a valid phone number")
}
