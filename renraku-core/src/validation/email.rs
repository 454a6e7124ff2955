//! The rule of email addresses: the WHATWG rule of `<input type=email>` with the domain
//! converted by IDNA (UTS 46, as browsers do), and a few rules of renraku's own.
//!
//! The `validator` crate's email check is not used: it accepts IP literals (even
//! `ada@evil.com[127.0.0.1]`, its pattern is not anchored), `a..b@…` and undecodable
//! punycode (`ada@xn--a.org`).

/// The longest local part (RFC 5321).
pub const MAX_LOCAL_CHARS: usize = 64;

/// The longest domain in ASCII form (RFC 1035).
pub const MAX_DOMAIN_OCTETS: usize = 253;

/// Whether `address` (normalized, and free of invisible characters) is an email address:
///
/// - exactly one `@`, with a local part of the WHATWG characters (ASCII letters and digits
///   and ``.!#$%&'*+/=?^_`{|}~-``; with `unicode_local`, also non-ASCII letters, marks and
///   digits), at most [`MAX_LOCAL_CHARS`] long, not starting or ending with a dot, without
///   two dots in a row;
/// - a domain that IDNA converts to ASCII, whose labels are WHATWG's (letters, digits and
///   inner hyphens, 1 to 63 long), at least two of them, at most [`MAX_DOMAIN_OCTETS`]
///   octets in all. IP literals (`[127.0.0.1]`) are not domains.
pub(crate) fn is_email(address: &str, unicode_local: bool) -> bool {
    let Some((local, domain)) = address.split_once('@') else { return false };
    is_local_part(local, unicode_local) && is_domain(domain)
}

fn is_local_part(local: &str, unicode_local: bool) -> bool {
    let allowed = |c: char| {
        c.is_ascii_alphanumeric()
            || ".!#$%&'*+/=?^_`{|}~-".contains(c)
            || (unicode_local
                && !c.is_ascii()
                && (c.is_alphanumeric() || unicode_normalization::char::is_combining_mark(c)))
    };
    !local.is_empty()
        && local.chars().count() <= MAX_LOCAL_CHARS
        && local.chars().all(allowed)
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
}

fn is_domain(domain: &str) -> bool {
    let Ok(ascii) = idna::domain_to_ascii(domain) else { return false };
    let labels: Vec<&str> = ascii.split('.').collect();
    ascii.len() <= MAX_DOMAIN_OCTETS && labels.len() >= 2 && labels.iter().all(|label| is_label(label))
}

/// A WHATWG domain label: 1 to 63 ASCII letters, digits and hyphens, not starting or
/// ending with a hyphen.
fn is_label(label: &str) -> bool {
    (1..=63).contains(&label.len())
        && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}
