//! The web example's contact form, read from a form body as the new and edit pages read it:
//! never a panic; exactly the fields the body names (a field sent twice makes the form
//! unreadable, other fields are ignored), the version only when it is a number; what the
//! rules then say shows no value; and a form filled from a contact reads back as it.

#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use renraku_core::{ContactField, ContactPatch, FieldPatch};
use renraku_fuzz::assert_error_hides;

fuzz_target!(|data: &[u8]| {
    let parsed = renraku_web::fuzzing::contact_form(data);

    // What the body says, read independently as a list of pairs.
    let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(data) else {
        assert!(parsed.is_none(), "read a body that is not a form");
        return;
    };
    let mut seen: HashMap<&str, &str> = HashMap::new();
    let mut twice = false;
    for (name, value) in &pairs {
        let known = name.parse::<ContactField>().is_ok() || name == "version";
        if known && seen.insert(name, value).is_some() {
            twice = true;
        }
    }
    let Some(form) = parsed else {
        assert!(twice, "refused a form with every field once");
        return;
    };
    assert!(!twice, "read a form with a field sent twice");
    for field in ContactField::ALL {
        assert_eq!(form.input.field(field), seen.get(field.name()).copied(), "{field}");
    }
    let version = seen.get("version").and_then(|v| v.trim().parse::<u64>().ok());
    assert_eq!(form.version, version);

    // What the pages do with it.
    let values: Vec<&str> = pairs.iter().map(|(_, v)| v.as_str()).collect();
    let rules = renraku_fuzz::rules(data.first().copied().unwrap_or(0));
    if let Err(err) = rules.check_new(form.input.clone()) {
        assert_error_hides(&err, &values);
    }
    let patch = ContactPatch::replace_with(form.input.clone());
    for field in ContactField::ALL {
        let expected = form.input.field(field).map_or(FieldPatch::Clear, |v| FieldPatch::Set(v.to_owned()));
        assert_eq!(patch.field(field), &expected);
    }
    if let Err(err) = rules.check_patch(patch) {
        assert_error_hides(&err, &values);
    }

    // A form filled with these values, as the edit page sends it, reads back the same.
    let filled: Vec<(&str, &str)> = ContactField::ALL
        .into_iter()
        .filter_map(|f| form.input.field(f).map(|v| (f.name(), v)))
        .chain([("version", "7"), ("csrf_token", "x")])
        .collect();
    let body = serde_urlencoded::to_string(&filled).expect("a form body");
    let again = renraku_web::fuzzing::contact_form(body.as_bytes()).expect("a filled form reads back");
    assert_eq!(again.input, form.input);
    assert_eq!(again.version, Some(7));
});
