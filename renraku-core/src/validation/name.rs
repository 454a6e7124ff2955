//! The rule of first and last names: letters of any script, with the marks, spaces and
//! punctuation that real names use.

use unicode_properties::GeneralCategoryGroup;

use super::text::{group, is_invisible};

/// The punctuation names use besides letters and marks: apostrophes (`O'Brien`, `O’Brien`),
/// hyphens (`-`, U+2010, U+2011), the period (`J. R.`), middle dots (Catalan `Gal·la`,
/// Chinese `玛丽·居里`, katakana `ジョン・スミス`), the katakana double hyphen, Hebrew geresh,
/// gershayim and maqaf (`ג׳ורג׳`), and the Tibetan tsheg.
pub const NAME_PUNCTUATION: &[char] = &[
    '\'', '\u{2019}', '-', '\u{2010}', '\u{2011}', '.', '\u{B7}', '\u{30FB}', '\u{30A0}', '\u{5F3}',
    '\u{5F4}', '\u{5BE}', '\u{F0B}', '\u{F0C}',
];

/// Whether a normalized value (one that passed the text policy) is a name: letters, marks,
/// spaces and [`NAME_PUNCTUATION`] (and joiners where the text policy lets them be), with at
/// least one letter.
pub(crate) fn is_person_name(name: &str) -> bool {
    let mut letters = 0;
    for c in name.chars() {
        match group(c) {
            GeneralCategoryGroup::Letter => letters += 1,
            GeneralCategoryGroup::Mark => {}
            _ if c == ' ' || NAME_PUNCTUATION.contains(&c) || is_invisible(c) => {}
            _ => return false,
        }
    }
    letters > 0
}
