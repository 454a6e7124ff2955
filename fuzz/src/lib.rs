//! What the fuzz targets share: inputs built from fuzz data, a `block_on` for futures that
//! never wait, and the privacy checks.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use arbitrary::Arbitrary;
use renraku_core::{
    Actor, CaseId, ContactField, ContactPatch, ContactQuery, FieldPatch, NewContact, Rules, SearchKeys,
};

/// Runs a future that must complete without waiting (the memory store and the web
/// extractors over an in-memory body never do): a future that is not ready at once fails.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the future waited, but nothing here ever should"),
    }
}

/// The default phone regions the targets use, `None` first.
const REGIONS: [Option<&str>; 7] =
    [None, Some("DE"), Some("US"), Some("GB"), Some("JP"), Some("IN"), Some("BR")];

/// Validation rules chosen by a byte: a default region or none, with or without Unicode
/// local parts in email addresses.
#[must_use]
pub fn rules(choice: u8) -> Rules {
    let region = REGIONS[usize::from(choice) % REGIONS.len()];
    let rules = Rules::default().allow_unicode_local_part(choice & 0x80 != 0);
    match region {
        Some(region) => rules.with_default_region(region.parse().expect("a known region")),
        None => rules,
    }
}

/// A value for one field: arbitrary text, or one of the shapes of real values (so that
/// accepted inputs are frequent), or such a value with arbitrary text around it.
#[derive(Debug, Clone, Arbitrary)]
pub enum Value {
    /// Any text.
    Text(String),
    /// A realistic value for the field, picked by the byte.
    Typical(u8),
    /// A realistic value with text before and after it.
    Around(String, u8, String),
}

/// Realistic values per field kind: names of many scripts, phone numbers in the shapes
/// people type, email addresses, addresses.
const NAMES: &[&str] = &[
    "Ada",
    "Zoë-Marie",
    "O'Brien",
    "Nguyễn",
    "李小龙",
    "J. R.",
    "玛丽·居里",
    "Gal·la",
    "ジョン・スミス",
    "ג׳ורג׳",
    "Οδυσσέας",
    "ΟΔΥΣΣΕΑΣ",
    "Straße",
    "STRASSE",
    "İstanbul",
    "Işık",
    "IŞIK",
    "ǅemal",
    "Σίσυφος",
    "علی‌رضا",
    "ශ්‍රී",
    "Łukasz",
    "Ørsted",
    "Ðorđe",
    "ẞeta",
    "Ǉubica",
    "Αθηνᾶ",
    "ᾼ",
    "Ⴀნა",
    "ᏣᎳᎩ",
    "Ꭰꮿ",
    "ǰosé",
    "J̌ohn",
    "ﬀolk",
    "Ⅻ",
    "Ǆ",
    "Ωmega",
    "Kelvin",
    "Åse",
];
const PHONES: &[&str] = &[
    "+49 30 1234567",
    "030 1234567",
    "+1 202 555 0143",
    "(202) 555-0143",
    "+44 20 7946 0958",
    "+7 812 123-45-67",
    "+٤٩ ٣٠ ١٢٣٤٥٦٧",
    "tel:+49-30-1234567",
    "+81 3 1234 5678",
    "０３０ １２３４５６７",
    "+49 (0)30 1234567",
    "0049 30 1234567",
    "+91 98765 43210",
    "+55 11 91234 5678",
    "12",
];
const EMAILS: &[&str] = &[
    "ada@example.org",
    "Ada@Example.ORG",
    "zoe@bücher.de",
    "a+tag@sub.example.co.uk",
    "zoë@example.org",
    "ΟΔΥΣ@example.org",
    "x@xn--bcher-kva.de",
    "STRASSE@example.org",
    "straße@example.org",
];
const TEXTS: &[&str] = &[
    "Dr.",
    "Frau",
    "household",
    "colleague",
    "Hauptstraße 1\r\n10115 Berlin",
    "Mary\u{a0}\u{a0}Ann",
    "  padded  ",
    "Zoe\u{308}",
    "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11",
];

/// A realistic value for `field`.
#[must_use]
pub fn typical(field: ContactField, pick: u8) -> &'static str {
    let pool = match field {
        ContactField::FirstName | ContactField::LastName => NAMES,
        ContactField::Phone => PHONES,
        ContactField::Email => EMAILS,
        _ => TEXTS,
    };
    pool[usize::from(pick) % pool.len()]
}

impl Value {
    /// The text of this value for `field`.
    #[must_use]
    pub fn text(&self, field: ContactField) -> String {
        match self {
            Self::Text(text) => text.clone(),
            Self::Typical(pick) => typical(field, *pick).to_owned(),
            Self::Around(before, pick, after) => format!("{before}{}{after}", typical(field, *pick)),
        }
    }
}

/// The values of a create, one per field in [`ContactField::ALL`] order.
pub type Values = [Option<String>; ContactField::COUNT];

/// The input of a create from fuzz values.
#[must_use]
pub fn values(fields: &[Option<Value>; ContactField::COUNT]) -> Values {
    ContactField::ALL.map(|f| fields[f.index()].as_ref().map(|v| v.text(f)))
}

/// A `NewContact` with these values.
#[must_use]
pub fn new_contact(values: &Values) -> NewContact {
    ContactField::ALL.into_iter().fold(NewContact::default(), |input, field| match &values[field.index()] {
        Some(value) => input.with(field, value.clone()),
        None => input,
    })
}

/// What a fuzzed patch does to one field.
#[derive(Debug, Clone, Arbitrary)]
pub enum PatchOp {
    /// Keep the field.
    Keep,
    /// Clear it.
    Clear,
    /// Set it to this value.
    Set(Value),
}

/// One patch per field, as text.
pub type PatchValues = [FieldPatch<String>; ContactField::COUNT];

/// The text of a fuzzed patch.
#[must_use]
pub fn patch_values(ops: &[PatchOp; ContactField::COUNT]) -> PatchValues {
    ContactField::ALL.map(|f| match &ops[f.index()] {
        PatchOp::Keep => FieldPatch::Keep,
        PatchOp::Clear => FieldPatch::Clear,
        PatchOp::Set(value) => FieldPatch::Set(value.text(f)),
    })
}

/// A `ContactPatch` with these field patches.
#[must_use]
pub fn contact_patch(values: &PatchValues) -> ContactPatch {
    ContactField::ALL.into_iter().fold(ContactPatch::default(), |patch, field| match &values[field.index()] {
        FieldPatch::Keep => patch,
        FieldPatch::Clear => patch.clear(field),
        FieldPatch::Set(value) => patch.set(field, value.clone()),
    })
}

/// The case every target works in, and a second one.
#[must_use]
pub fn case(n: u8) -> CaseId {
    CaseId::new(format!("case-{}", n % 3)).expect("a valid case id")
}

/// The actor every target acts as.
#[must_use]
pub fn actor() -> Actor {
    Actor::new("clerk-1").expect("a valid actor")
}

/// The characters that error messages, codes, field names and their `Debug` and JSON forms
/// are written in. A rendering of an error that has any other character shows something
/// that did not come from renraku: a value.
fn is_vocabulary(c: char) -> bool {
    c.is_ascii_alphanumeric() || " \n_.,;:\"()[]{}#-+/".contains(c)
}

/// Checks that a rendering of an error (`Display`, `Debug`, JSON) shows none of `values`:
///
/// - it is written only in the vocabulary of renraku's messages, so no value with any other
///   character (any non-ASCII letter, `@`, `'`, `<`, `&`, …) appears in it;
/// - no value of 24 characters or more appears in it (no redacted rendering has such a run).
///
/// # Panics
/// If it does.
pub fn assert_hides<'a>(rendering: &str, values: impl IntoIterator<Item = &'a str>) {
    if let Some(c) = rendering.chars().find(|c| !is_vocabulary(*c)) {
        panic!("an error rendering has {c:?}, which no message has: {rendering:?}");
    }
    for value in values {
        let value = value.trim();
        if value.chars().count() >= 24 && rendering.contains(value) {
            panic!("a rendering shows a value: {rendering:?}");
        }
    }
}

/// Every rendering of an error that a host might log or show.
#[must_use]
pub fn renderings(err: &renraku_core::Error) -> [String; 4] {
    [
        err.to_string(),
        format!("{err:?}"),
        format!("{err:#?}"),
        serde_json::to_string(&err.validation_errors()).expect("errors serialize"),
    ]
}

/// How many messages one field and code may have (renraku's have at most three).
pub const MESSAGES_PER_CODE: usize = 8;

/// Checks that an error shows none of `values` in any rendering.
///
/// A validation error's renderings come from a few fixed messages for each field and code
/// (numbers in them, the limits, compared as `#`): the distinct renderings seen for each list
/// of (index, field, code) are kept, and there may be at most [`MESSAGES_PER_CODE`] of them,
/// whatever the inputs were; a value in a message would make a new one for every input. (A
/// search of the renderings for the values' text would be gamed: libFuzzer learns the
/// messages from that very comparison and feeds them back as input.) Other errors are checked
/// by [`assert_hides`].
///
/// # Panics
/// If it does.
pub fn assert_error_hides(err: &renraku_core::Error, values: &[&str]) {
    type Shape = Vec<(Option<usize>, &'static str, &'static str)>;
    type Seen = std::collections::HashMap<Shape, std::collections::HashSet<[String; 4]>>;
    static SEEN: std::sync::LazyLock<std::sync::Mutex<Seen>> = std::sync::LazyLock::new(Default::default);
    let renderings = renderings(err);
    // A query's limit depends on its kind (32, 254, 100), which its field (`query`) does not say.
    let shape_of = |text: &String| {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            if !c.is_ascii_digit() {
                out.push(c);
            } else if !out.ends_with('#') {
                out.push('#');
            }
        }
        out
    };
    let Some(errors) = err.validation_errors() else {
        for rendering in &renderings {
            assert_hides(rendering, values.iter().copied());
        }
        return;
    };
    for rendering in &renderings {
        assert_hides(rendering, []);
    }
    let shape: Shape = errors.iter().map(|e| (e.index, e.field, e.code)).collect();
    let mut seen = SEEN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let renderings = renderings.each_ref().map(shape_of);
    let kinds = seen.entry(shape).or_default();
    kinds.insert(renderings);
    assert!(
        kinds.len() <= MESSAGES_PER_CODE,
        "a field and code rendered in many ways, a value in them: {kinds:#?}"
    );
}

/// The search keys of a stored contact, compared only by their names and email.
#[must_use]
pub fn text_keys(keys: &SearchKeys) -> (Option<String>, Option<String>, Option<String>) {
    (keys.email.clone(), keys.first_name.clone(), keys.last_name.clone())
}

/// The three kinds of query, for a value.
#[must_use]
pub fn queries(value: &str) -> [ContactQuery; 3] {
    [
        ContactQuery::Phone(value.to_owned()),
        ContactQuery::Email(value.to_owned()),
        ContactQuery::NamePrefix(value.to_owned()),
    ]
}

/// Checks that `contact`'s `Debug` (plain and pretty) is that of a twin whose values are
/// all `x`: it shows no value.
///
/// # Panics
/// If it shows one.
pub fn assert_debug_hides_contact(contact: &renraku_core::Contact) {
    let twin = renraku_core::Contact::from_stored(
        contact.id,
        contact.case_id.clone(),
        renraku_core::ContactField::ALL.map(|f| contact.field(f).map(|_| "x".to_owned())),
        contact.phone_e164.as_ref().map(|_| "+1".to_owned()),
        contact.version,
        (contact.created_at, contact.updated_at),
        (contact.created_by.clone(), contact.updated_by.clone()),
    );
    assert_eq!(format!("{contact:?}"), format!("{twin:?}"), "Contact's Debug shows a value");
    assert_eq!(format!("{contact:#?}"), format!("{twin:#?}"));
}
