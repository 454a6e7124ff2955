//! Differential tests: renraku's rules against data that references produced, in
//! `tests/reference/` (see its README for provenance and how to regenerate):
//!
//! - `phones.tsv`: 29,279 inputs with the verdict and E.164 form of libphonenumber
//!   (Python `phonenumbers` 9.0.42, the metadata `rlibphonenumber` 2.2.15 embeds);
//! - `emails.tsv`: 800 inputs with the verdict of the WHATWG `type=email` rule after IDNA;
//! - `names.tsv`: 168 names in many scripts, with what the name rule must do.
//!
//! Each row must agree with the reference, or fall under one of the deliberate differences
//! that the rules table documents; any other disagreement fails the test and is printed.

use std::collections::BTreeMap;
use std::path::Path;

use renraku_core::validation::{code, normalize};
use renraku_core::{ContactField, Error, NewContact, Rules};

/// The rows of a reference file: the lines after its column-header row (the `#` lines of
/// provenance come before it), split at tabs, with the escapes of the input undone.
fn rows(file: &str) -> Vec<Vec<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines().skip_while(|line| line.starts_with('#'));
    lines.next().expect("a column-header row");
    lines.map(|line| line.split('\t').map(unescape).collect()).collect()
}

/// Undoes the escapes of the reference files: `\\`, `\t`, `\n`, `\r`, `\u{XXXX}`.
fn unescape(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('u') => {
                let hex: String = chars.by_ref().skip(1).take_while(|c| *c != '}').collect();
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).expect("hex")).expect("a char"));
            }
            other => panic!("unknown escape \\{other:?} in {field:?}"),
        }
    }
    out
}

/// The codes of the errors of one field, or the accepted value.
fn check(rules: &Rules, field: ContactField, value: &str) -> Result<Option<String>, Vec<&'static str>> {
    let someone =
        if field == ContactField::LastName { ContactField::FirstName } else { ContactField::LastName };
    let input = NewContact::default().with(someone, "Lovelace").with(field, value);
    match rules.check_new(input) {
        Ok(draft) => Ok(match field {
            ContactField::Phone => draft.phone_e164().map(str::to_owned),
            _ => draft.field(field).map(str::to_owned),
        }),
        Err(Error::Validation(errors)) => Err(errors.iter().map(|e| e.code).collect()),
        Err(other) => panic!("{other}"),
    }
}

/// Counts of a comparison: rows, agreements, deliberate differences by reason, and the
/// disagreements that no documented difference explains.
#[derive(Default)]
struct Tally {
    rows: usize,
    agree: usize,
    deliberate: BTreeMap<&'static str, usize>,
    unexplained: Vec<String>,
}

impl Tally {
    fn report(&self, what: &str) {
        let share = |n: usize| 100.0 * n as f64 / self.rows as f64;
        eprintln!(
            "{what}: {} rows, {} agree ({:.2}%), {} deliberate differences {:?}, {} unexplained",
            self.rows,
            self.agree,
            share(self.agree),
            self.deliberate.values().sum::<usize>(),
            self.deliberate,
            self.unexplained.len()
        );
        assert!(
            self.unexplained.is_empty(),
            "{what}: {} rows disagree with the reference:\n{}",
            self.unexplained.len(),
            self.unexplained.join("\n")
        );
        assert!(self.rows > 0 && self.agree > 0);
    }
}

/// Why renraku deliberately rejects a phone number the reference accepts, if it does.
fn deliberate_phone_difference(input: &str, codes: &[&str]) -> Option<&'static str> {
    let normalized = normalize(input).unwrap_or_default();
    let is_tel_uri = normalized.get(..4).is_some_and(|s| s.eq_ignore_ascii_case("tel:"));
    if codes.contains(&code::TOO_LONG) {
        Some("longer than 32 characters")
    } else if codes.contains(&code::CONTROL_CHARACTER) || codes.contains(&code::INVISIBLE_CHARACTER) {
        Some("control or invisible characters")
    } else if !is_tel_uri && normalized.chars().any(char::is_alphabetic) {
        Some("letters outside a tel: URI")
    } else {
        None
    }
}

#[test]
fn reference_phones_agree_with_libphonenumber() {
    let mut tally = Tally::default();
    let mut by_region: BTreeMap<String, Rules> = BTreeMap::new();
    for row in rows("phones.tsv") {
        let [input, region, valid, e164, category] = &row[..] else {
            panic!("a phone row has 5 columns: {row:?}")
        };
        let rules = by_region.entry(region.clone()).or_insert_with(|| match region.as_str() {
            "" => Rules::default(),
            code => Rules::default().with_default_region(code.parse().expect("a known region")),
        });
        tally.rows += 1;
        let reference = (valid == "1").then_some(e164.as_str());
        let ours = check(rules, ContactField::Phone, input);
        match (&ours, reference) {
            (Ok(Some(got)), Some(expected)) if got == expected => tally.agree += 1,
            (Err(_), None) | (Ok(None), None) => tally.agree += 1,
            (Err(codes), Some(_)) => match deliberate_phone_difference(input, codes) {
                Some(reason) => *tally.deliberate.entry(reason).or_default() += 1,
                None => tally
                    .unexplained
                    .push(format!("{input:?} ({region}, {category}): {codes:?}, reference {e164}")),
            },
            // Every kind of space becomes one ordinary space before libphonenumber reads the
            // number, and it is trimmed: a narrow no-break space, or 240 trailing spaces, no longer stop it.
            (Ok(Some(_)), None) if normalize(input).as_deref() != Some(input) => {
                *tally.deliberate.entry("trimmed and spaces folded before parsing").or_default() += 1;
            }
            _ => tally
                .unexplained
                .push(format!("{input:?} ({region}, {category}): {ours:?}, reference {reference:?}")),
        }
    }
    tally.report("phones");
}

/// Why renraku deliberately disagrees with the reference on an email address, if it does.
fn deliberate_email_difference(
    input: &str,
    reference_valid: bool,
    note: &str,
    codes: &[&str],
) -> Option<&'static str> {
    let normalized = normalize(input).unwrap_or_default();
    let (local, domain) = normalized.rsplit_once('@').unwrap_or_default();
    if note.ends_with(";idna_py_stricter") {
        // The reference applies IDNA 2008's label rules (Python `idna`); renraku applies
        // UTS 46 as WHATWG URL does (the `idna` crate), which is what browsers do.
        return Some("the reference's IDNA 2008 label rules");
    }
    if !reference_valid {
        return (normalized != input && !normalized.is_empty()).then_some("trimmed and spaces folded");
    }
    if codes.contains(&code::TOO_LONG) {
        Some("longer than 254 characters")
    } else if codes.contains(&code::INVISIBLE_CHARACTER) || codes.contains(&code::CONTROL_CHARACTER) {
        Some("control or invisible characters")
    } else if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        Some("leading, trailing or doubled dot before the @")
    } else if local.chars().count() > renraku_core::validation::MAX_LOCAL_CHARS {
        Some("more than 64 characters before the @")
    } else if !domain.contains('.') {
        Some("a single-label domain")
    } else {
        None
    }
}

#[test]
fn reference_emails_agree_with_whatwg_after_idna() {
    let mut tally = Tally::default();
    let rules = Rules::default();
    for row in rows("emails.tsv") {
        let [input, valid, _ascii_domain, note] = &row[..] else {
            panic!("an email row has 4 columns: {row:?}")
        };
        tally.rows += 1;
        let reference = valid == "1";
        let ours = check(&rules, ContactField::Email, input);
        let codes = ours.as_ref().err().cloned().unwrap_or_default();
        if ours.as_ref().is_ok_and(Option::is_some) == reference {
            tally.agree += 1;
        } else if let Some(reason) = deliberate_email_difference(input, reference, note, &codes) {
            *tally.deliberate.entry(reason).or_default() += 1;
        } else {
            tally.unexplained.push(format!("{input:?} ({note}): {ours:?}, reference {reference}"));
        }
    }
    tally.report("emails");
}

#[test]
fn reference_names_in_many_scripts() {
    let mut tally = Tally::default();
    let rules = Rules::default();
    let mut scripts = BTreeMap::<String, usize>::new();
    for row in rows("names.tsv") {
        let [_name, codepoints, script, expected, why] = &row[..] else {
            panic!("a name row has 5 columns: {row:?}")
        };
        // The code points are authoritative: invisible characters survive any editor.
        let name: String = codepoints
            .split(' ')
            .map(|cp| {
                char::from_u32(u32::from_str_radix(cp.trim_start_matches("U+"), 16).expect("hex"))
                    .expect("a char")
            })
            .collect();
        tally.rows += 1;
        *scripts.entry(script.clone()).or_default() += 1;
        for field in [ContactField::FirstName, ContactField::LastName] {
            let ours = check(&rules, field, &name);
            match (expected.as_str(), &ours) {
                ("accept", Ok(Some(_))) | ("reject", Err(_)) => {}
                _ => tally
                    .unexplained
                    .push(format!("{field} {name:?} ({script}: {why}): {ours:?}, expected {expected}")),
            }
        }
        if tally.unexplained.is_empty() {
            tally.agree += 1;
        }
    }
    eprintln!("names by script: {scripts:?}");
    tally.report("names");
}
