//! The Unicode policy of every text field: how values are normalized, and which
//! characters no field may hold.
//!
//! - **Spaces**: every space separator (U+00A0, U+2007, U+3000, …) becomes an ordinary
//!   space, runs of spaces become one, and the value is trimmed.
//! - **Lines**: only multi-line fields keep line breaks (CR LF, CR, LF, U+2028, U+2029 and
//!   NEL all become `\n`); each line is trimmed and empty lines are dropped.
//! - **NFC**, after the above.
//! - **Refused everywhere**: control characters (code `control_character`); format and
//!   default-ignorable characters, which render as nothing or reorder text: bidi controls
//!   (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C), zero-width spaces and joiners,
//!   word joiners, soft hyphens, Hangul fillers, variation selectors, the combining
//!   grapheme joiner, tags (code `invisible_character`); more than
//!   [`MAX_MARKS_PER_BASE`] combining marks on one character (code `too_many_marks`).
//! - **Except**: a zero-width joiner or non-joiner that follows a virama (Indic scripts,
//!   `ශ්‍රී`), or that stands between two letters of a joining script (Arabic, Syriac, N'Ko,
//!   Mongolian: `علی‌رضا`), where it changes how the letters are drawn.

use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
use unicode_properties::{GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory};

use super::code;

/// The most combining marks one base character may carry: enough for every script's
/// stacks (Vietnamese has two, Tibetan three), not for "zalgo" text.
pub const MAX_MARKS_PER_BASE: usize = 4;

const ZWNJ: char = '\u{200C}';
const ZWJ: char = '\u{200D}';

/// Normalizes a single-line value: spaces folded, trimmed, NFC; `None` when blank.
pub(crate) fn normalize_line(value: &str) -> Option<String> {
    let folded = fold_spaces(value);
    (!folded.is_empty()).then(|| nfc_owned(folded))
}

/// Normalizes a multi-line value: line breaks unified to `\n`, each line as
/// [`normalize_line`], empty lines dropped; `None` when blank.
pub(crate) fn normalize_lines(value: &str) -> Option<String> {
    let unified = value.replace("\r\n", "\n");
    let lines: Vec<String> =
        unified.split(['\n', '\r', '\u{2028}', '\u{2029}', '\u{85}']).filter_map(normalize_line).collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// Every space separator as one ordinary space, runs of them as one, trimmed (also of
/// other white space, such as tabs and line breaks at the ends).
fn fold_spaces(value: &str) -> String {
    let mut folded = String::with_capacity(value.len());
    for c in value.trim().chars() {
        if category(c) == GeneralCategory::SpaceSeparator {
            if !folded.ends_with(' ') {
                folded.push(' ');
            }
        } else {
            folded.push(c);
        }
    }
    folded
}

/// NFC, without the work of composing when a quick check already knows the text is NFC
/// (nearly all input is).
pub(crate) fn nfc(text: &str) -> String {
    nfc_owned(text.to_owned())
}

/// [`nfc`] of a string already owned, kept as it is when it is NFC.
fn nfc_owned(text: String) -> String {
    match is_nfc_quick(text.chars()) {
        IsNormalized::Yes => text,
        _ => text.nfc().collect(),
    }
}

/// The general category of `c`. The table search of `unicode-properties` took nearly half
/// of validating a contact, so ASCII (nearly all input) is looked up in a table of 128
/// entries made from the same functions.
pub(crate) fn category(c: char) -> GeneralCategory {
    ascii(c).map_or_else(|| c.general_category(), |(category, _)| category)
}

/// The group (letter, mark, …) of [`category`].
pub(crate) fn group(c: char) -> GeneralCategoryGroup {
    ascii(c).map_or_else(|| c.general_category_group(), |(_, group)| group)
}

fn ascii(c: char) -> Option<(GeneralCategory, GeneralCategoryGroup)> {
    static ASCII: std::sync::LazyLock<[(GeneralCategory, GeneralCategoryGroup); 128]> =
        std::sync::LazyLock::new(|| {
            std::array::from_fn(|b| {
                let c = char::from(u8::try_from(b).unwrap_or(0));
                (c.general_category(), c.general_category_group())
            })
        });
    c.is_ascii().then(|| ASCII[c as usize])
}

/// The first rule of the policy that a normalized value breaks, as an error code.
/// `multi_line` allows `\n`.
pub(crate) fn check(value: &str, multi_line: bool) -> Result<(), &'static str> {
    // ASCII holds no invisible characters and no marks: only controls can break the policy.
    if value.is_ascii() {
        let control = |b: &u8| b.is_ascii_control() && !(multi_line && *b == b'\n');
        return if value.as_bytes().iter().any(control) { Err(code::CONTROL_CHARACTER) } else { Ok(()) };
    }
    let chars: Vec<char> = value.chars().collect();
    let mut marks = 0;
    for (i, &c) in chars.iter().enumerate() {
        // Line and paragraph separators break lines as `\n` does.
        let line_break = matches!(c, '\n' | '\u{2028}' | '\u{2029}');
        if (c.is_control() || line_break) && !(multi_line && c == '\n') {
            return Err(code::CONTROL_CHARACTER);
        }
        if is_invisible(c) && !joiner_in_context(&chars, i) {
            return Err(code::INVISIBLE_CHARACTER);
        }
        if group(c) == GeneralCategoryGroup::Mark {
            marks += 1;
            if marks > MAX_MARKS_PER_BASE {
                return Err(code::TOO_MANY_MARKS);
            }
        } else {
            marks = 0;
        }
    }
    Ok(())
}

/// Format characters and default-ignorable code points: what renders as nothing, or
/// changes how the text around it is ordered or shaped.
pub(crate) fn is_invisible(c: char) -> bool {
    category(c) == GeneralCategory::Format || is_default_ignorable(c)
}

/// `Default_Ignorable_Code_Point` of Unicode's DerivedCoreProperties.txt (stable since
/// Unicode 4; the list is short enough to keep here).
fn is_default_ignorable(c: char) -> bool {
    matches!(c,
        '\u{AD}' | '\u{34F}' | '\u{61C}' | '\u{115F}'..='\u{1160}' | '\u{17B4}'..='\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}'
        | '\u{FFF0}'..='\u{FFF8}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E0FFF}')
}

/// Whether the character at `i` is a zero-width joiner or non-joiner where a script needs
/// one: after a virama, or between two letters of a joining script.
fn joiner_in_context(chars: &[char], i: usize) -> bool {
    if !matches!(chars[i], ZWJ | ZWNJ) {
        return false;
    }
    let (Some(&before), Some(&after)) = (i.checked_sub(1).and_then(|b| chars.get(b)), chars.get(i + 1))
    else {
        return false;
    };
    const VIRAMA: u8 = 9;
    if canonical_combining_class(before) == VIRAMA {
        return group(after) == GeneralCategoryGroup::Letter;
    }
    is_joining_letter(before) && is_joining_letter(after)
}

/// A letter of a script whose letters join (and so may be kept apart by a non-joiner).
fn is_joining_letter(c: char) -> bool {
    group(c) == GeneralCategoryGroup::Letter
        && matches!(c,
            '\u{600}'..='\u{6FF}' | '\u{750}'..='\u{77F}' | '\u{8A0}'..='\u{8FF}'
            | '\u{FB50}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}'
            | '\u{700}'..='\u{74F}' | '\u{7C0}'..='\u{7FF}' | '\u{1800}'..='\u{18AF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_fold_to_one_ordinary_space() {
        assert_eq!(normalize_line("\u{a0}Mary\u{3000}\u{2007} Ann\t").as_deref(), Some("Mary Ann"));
        assert_eq!(normalize_line(" \u{a0}\u{3000} "), None);
    }

    #[test]
    fn lines_are_unified_and_trimmed() {
        let address = " Hauptstraße 1 \r\n\r\n 10115  Berlin\rGermany\u{2028}";
        assert_eq!(normalize_lines(address).as_deref(), Some("Hauptstraße 1\n10115 Berlin\nGermany"));
        assert_eq!(normalize_lines("\n \r\n"), None);
    }

    #[test]
    fn joiners_only_where_a_script_needs_them() {
        assert_eq!(check("\u{639}\u{644}\u{6CC}\u{200C}\u{631}\u{636}\u{627}", false), Ok(()), "Persian");
        assert_eq!(check("\u{DC1}\u{DCA}\u{200D}\u{DBB}\u{DD3}", false), Ok(()), "Sinhala after virama");
        assert_eq!(check("Ad\u{200D}a", false), Err(code::INVISIBLE_CHARACTER), "between Latin letters");
        assert_eq!(check("\u{200C}Ada", false), Err(code::INVISIBLE_CHARACTER), "at the start");
        assert_eq!(check("\u{DC1}\u{DCA}\u{200D}", false), Err(code::INVISIBLE_CHARACTER), "at the end");
    }

    #[test]
    fn invisible_and_reordering_characters_are_refused() {
        for bad in
            ["a\u{202E}b", "a\u{200B}b", "\u{3164}", "a\u{FE0F}", "a\u{34F}b", "a\u{AD}b", "a\u{E0041}"]
        {
            assert_eq!(check(bad, false), Err(code::INVISIBLE_CHARACTER), "{bad:?}");
        }
        assert_eq!(check("a\nb", false), Err(code::CONTROL_CHARACTER));
        assert_eq!(check("a\u{2028}b", false), Err(code::CONTROL_CHARACTER), "a line separator");
        assert_eq!(check("a\nb", true), Ok(()));
        assert_eq!(check("a\u{7}b", true), Err(code::CONTROL_CHARACTER));
    }

    #[test]
    fn marks_are_capped_per_base_character() {
        assert_eq!(check("Nguye\u{302}\u{303}n", false), Ok(()));
        let four = format!("a{}", "\u{301}".repeat(MAX_MARKS_PER_BASE));
        assert_eq!(check(&four, false), Ok(()));
        assert_eq!(check(&format!("{four}\u{301}"), false), Err(code::TOO_MANY_MARKS));
    }
}
