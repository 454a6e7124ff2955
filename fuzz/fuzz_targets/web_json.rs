//! The web example's JSON bodies (`NewContact` for a create, `ContactPatch` for an update)
//! through the API's extractor: never a panic; with a JSON content type it reads exactly
//! what serde_json reads, and refuses the rest with 400 or 422; without one, 415; what the
//! rules then say shows no value; and a body the API wrote reads back the same.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use renraku_core::{ContactPatch, NewContact};
use renraku_fuzz::{assert_error_hides, block_on};
use renraku_web::fuzzing::api_json;

const CONTENT_TYPES: [Option<&str>; 6] = [
    Some("application/json"),
    Some("application/json; charset=utf-8"),
    Some("application/merge-patch+json"),
    Some("text/plain"),
    Some("application/x-www-form-urlencoded"),
    None,
];

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    content_type: u8,
    patch: bool,
    rules: u8,
    body: &'a [u8],
}

fuzz_target!(|input: Input<'_>| {
    let content_type = CONTENT_TYPES[usize::from(input.content_type) % CONTENT_TYPES.len()];
    let is_json = content_type
        .is_some_and(|t| t.starts_with("application/") && t.split(';').next().unwrap().ends_with("json"));
    let rules = renraku_fuzz::rules(input.rules);
    let text = String::from_utf8_lossy(input.body);
    if input.patch {
        let read = block_on(api_json::<ContactPatch>(content_type, input.body.to_vec()));
        let direct = serde_json::from_slice::<ContactPatch>(input.body);
        let patch = check_agreement(read, direct, is_json);
        if let Some(patch) = patch {
            if let Err(err) = rules.check_patch(patch.clone()) {
                assert_error_hides(&err, &[&text]);
            }
            let written = serde_json::to_vec(&patch).unwrap();
            let again = block_on(api_json::<ContactPatch>(Some("application/json"), written));
            assert_eq!(again.ok(), Some(patch));
        }
    } else {
        let read = block_on(api_json::<NewContact>(content_type, input.body.to_vec()));
        let direct = serde_json::from_slice::<NewContact>(input.body);
        if let Some(new) = check_agreement(read, direct, is_json) {
            if let Err(err) = rules.check_new(new.clone()) {
                assert_error_hides(&err, &[&text]);
            }
            let written = serde_json::to_vec(&new).unwrap();
            let again = block_on(api_json::<NewContact>(Some("application/json"), written));
            assert_eq!(again.ok(), Some(new));
        }
    }
});

/// The extractor and serde_json agree; a refusal is 400 (not JSON), 422 (JSON of the wrong
/// shape) or 415 (not sent as JSON).
fn check_agreement<T: PartialEq + std::fmt::Debug>(
    read: Result<T, u16>,
    direct: Result<T, serde_json::Error>,
    is_json: bool,
) -> Option<T> {
    if !is_json {
        assert_eq!(read.err(), Some(415), "a body without a JSON content type");
        return None;
    }
    match (read, direct) {
        (Ok(read), Ok(direct)) => {
            assert_eq!(read, direct);
            Some(read)
        }
        (Err(status), Err(err)) => {
            let expected = if err.is_data() { 422 } else { 400 };
            assert_eq!(status, expected, "{err}");
            None
        }
        (read, direct) => panic!("the API read {read:?}, serde_json {direct:?}"),
    }
}
