//! A sequence of operations on `MemoryContactRepository`, checked against a model after
//! every step:
//!
//! - every operation's result is what `plan` says for the model's state (validation,
//!   not found in another case, conflicts, nothing stored by a failed bulk create);
//! - every contact is found by `get` in its case, and only there; versions only grow;
//! - the audit trail of each case is exactly the events of its real changes (and, with
//!   read audit, of its reads), one per change, in order; a change that changes nothing
//!   records nothing;
//! - walking the pages of a listing, an audit trail or a search returns every item once,
//!   in id order, and a search returns exactly the contacts its key matches;
//! - a case's summary counts its contacts, and its last change is its last change event;
//! - nothing panics, and nothing waits.

#![no_main]

use std::collections::{BTreeMap, HashMap};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use renraku_core::{
    AuditAction, CaseId, Contact, ContactField, ContactId, ContactQuery, ContactRepository, Error,
    NewContact, PageLimit, PageRequest, Rules, plan,
};
use renraku_fuzz::{PatchOp, Value, actor, block_on, case, contact_patch, new_contact, patch_values, values};
use renraku_memory::MemoryContactRepository;

type Fields = [Option<Value>; ContactField::COUNT];

#[derive(Debug, Arbitrary)]
enum Expected {
    Current,
    Other(u64),
}

#[derive(Debug, Arbitrary)]
enum Query {
    /// A field of a contact the model holds: its phone, its email, or a prefix of a name.
    Of {
        contact: u8,
        kind: u8,
        len: u8,
    },
    Phone(Value),
    Email(Value),
    NamePrefix(Value),
}

#[derive(Debug, Arbitrary)]
enum Op {
    Create { case: u8, fields: Fields },
    CreateMany { case: u8, inputs: Vec<Fields> },
    Get { case: u8, contact: u8 },
    List { case: u8 },
    Update { case: u8, contact: u8, patch: [PatchOp; ContactField::COUNT], expected: Option<Expected> },
    Delete { case: u8, contact: u8, expected: Option<Expected> },
    EraseCase { case: u8 },
    Case { case: u8 },
    AuditTrail { case: u8 },
    Find(Query),
}

#[derive(Debug, Arbitrary)]
struct Input {
    read_audit: bool,
    rules: u8,
    limit: u8,
    ops: Vec<Op>,
}

const CASES: u8 = 3;
const MAX_OPS: usize = 32;

/// The store, and what it should hold.
struct Harness {
    repo: MemoryContactRepository,
    rules: Rules,
    read_audit: bool,
    limit: PageLimit,
    /// The contacts, by id.
    contacts: BTreeMap<ContactId, Contact>,
    /// Every id ever created, to pick from (deleted ones too).
    ever: Vec<ContactId>,
    /// The highest version seen of each contact.
    versions: HashMap<ContactId, u64>,
    /// The actions each case's audit trail must hold, in order.
    events: HashMap<CaseId, Vec<AuditAction>>,
}

impl Harness {
    fn record(&mut self, case: &CaseId, action: AuditAction) {
        self.events.entry(case.clone()).or_default().push(action);
    }

    fn pick(&self, n: u8) -> ContactId {
        let n = usize::from(n) % (self.ever.len() + 1);
        self.ever.get(n).copied().unwrap_or_default()
    }

    fn in_case(&self, case: &CaseId) -> Vec<&Contact> {
        self.contacts.values().filter(|c| &c.case_id == case).collect()
    }

    fn stored(&mut self, contact: &Contact) {
        let seen = self.versions.entry(contact.id).or_insert(0);
        assert!(contact.version > *seen || contact.version == *seen, "a version went down");
        *seen = contact.version;
        self.contacts.insert(contact.id, contact.clone());
    }

    /// `get`, with the read audit it causes.
    fn get(&mut self, case: &CaseId, id: ContactId) -> Result<Contact, Error> {
        let got = block_on(self.repo.get(case, id, &actor()));
        match (&got, self.contacts.get(&id).filter(|c| &c.case_id == case)) {
            (Ok(got), Some(model)) => assert_eq!(got, model, "get returned another state"),
            (Err(Error::NotFound { .. }), None) => {}
            (got, model) => panic!("get: {got:?}, but the model has {model:?}"),
        }
        if got.is_ok() && self.read_audit {
            self.record(case, AuditAction::Viewed);
        }
        got
    }

    /// Walks the pages of a listing, with the read audit each page causes.
    fn list(&mut self, case: &CaseId) -> Vec<Contact> {
        let mut request = PageRequest::first(self.limit);
        let mut all = Vec::new();
        loop {
            let page = block_on(self.repo.list(case, request, &actor())).expect("list");
            if self.read_audit {
                self.record(case, AuditAction::Listed);
            }
            assert!(page.items.len() <= self.limit.get());
            assert!(page.next.is_none() || page.items.len() == self.limit.get(), "a short page with a next");
            all.extend(page.items.iter().cloned());
            match request.next(&page) {
                Some(next) => request = next,
                None => return all,
            }
        }
    }

    /// Walks a case's audit trail (which records nothing).
    fn trail(&self, case: &CaseId) -> Vec<renraku_core::AuditEvent> {
        let mut request = PageRequest::first(self.limit);
        let mut all = Vec::new();
        loop {
            let page = block_on(self.repo.audit_trail(case, request, &actor())).expect("audit trail");
            assert!(page.items.len() <= self.limit.get());
            all.extend(page.items.iter().cloned());
            match request.next(&page) {
                Some(next) => request = next,
                None => return all,
            }
        }
    }

    /// Walks the pages of a search, and checks it finds exactly what its key matches.
    fn find(&mut self, query: ContactQuery) {
        let key = self.rules.check_query(query.clone());
        let mut request = PageRequest::first(self.limit);
        let mut found = Vec::new();
        loop {
            let page = block_on(self.repo.find(query.clone(), request, &actor()));
            let page = match (page, &key) {
                (Ok(page), Ok(_)) => page,
                (Err(Error::Validation(_)), Err(_)) => return,
                (page, key) => panic!("find: {page:?}, but the key is {key:?}"),
            };
            if self.read_audit {
                self.record(&CaseId::across_cases(), AuditAction::Searched);
            }
            assert!(page.items.len() <= self.limit.get());
            found.extend(page.items.iter().map(|c| c.id));
            match request.next(&page) {
                Some(next) => request = next,
                None => break,
            }
        }
        let key = key.unwrap();
        let expected: Vec<ContactId> =
            self.contacts.values().filter(|c| key.matches(c)).map(|c| c.id).collect();
        assert_eq!(found, expected, "a search found other contacts than its key matches");
    }

    fn run(&mut self, op: Op) {
        match op {
            Op::Create { case: c, fields } => {
                let (case, input) = (case(c), new_contact(&values(&fields)));
                let valid = self.rules.check_new(input.clone()).is_ok();
                match block_on(self.repo.create(&case, input, &actor())) {
                    Ok(contact) => {
                        assert!(valid && contact.version == 1 && contact.case_id == case);
                        assert!(!self.contacts.contains_key(&contact.id));
                        self.ever.push(contact.id);
                        self.stored(&contact);
                        self.record(&case, AuditAction::Created);
                    }
                    Err(err) => assert!(!valid && matches!(err, Error::Validation(_)), "{err}"),
                }
            }
            Op::CreateMany { case: c, inputs } => {
                let case = case(c);
                let inputs: Vec<NewContact> =
                    inputs.iter().take(4).map(|f| new_contact(&values(f))).collect();
                let valid = inputs.iter().all(|i| self.rules.check_new(i.clone()).is_ok());
                let n = inputs.len();
                match block_on(self.repo.create_many(&case, inputs, &actor())) {
                    Ok(contacts) => {
                        assert!(valid && contacts.len() == n);
                        assert!(contacts.windows(2).all(|w| w[0].id < w[1].id), "in input order");
                        for contact in &contacts {
                            assert!(contact.version == 1 && contact.case_id == case);
                            self.ever.push(contact.id);
                            self.stored(contact);
                            self.record(&case, AuditAction::Created);
                        }
                    }
                    Err(err) => assert!(!valid && matches!(err, Error::Validation(_)), "{err}"),
                }
            }
            Op::Get { case: c, contact } => {
                let id = self.pick(contact);
                let _ = self.get(&case(c), id);
            }
            Op::List { case: c } => drop(self.list(&case(c))),
            Op::Update { case: c, contact, patch, expected } => {
                let (case, id) = (case(c), self.pick(contact));
                let patch = contact_patch(&patch_values(&patch));
                let current = self.contacts.get(&id).filter(|m| m.case_id == case).cloned();
                let expected = expected.map(|e| match e {
                    Expected::Current => current.as_ref().map_or(1, |c| c.version),
                    Expected::Other(v) => v,
                });
                let checked = self.rules.check_patch(patch.clone());
                let result = block_on(self.repo.update(&case, id, patch, expected, &actor()));
                let (checked, current) = match (checked, current) {
                    (Err(_), _) => return assert!(matches!(result, Err(Error::Validation(_))), "{result:?}"),
                    (Ok(_), None) => {
                        return assert!(matches!(result, Err(Error::NotFound { .. })), "{result:?}");
                    }
                    (Ok(checked), Some(current)) => (checked, current),
                };
                match (plan::update(&current, &checked, expected, &actor()), result) {
                    (Ok(None), Ok(contact)) => {
                        assert_eq!(contact, current, "a no-op update changed something")
                    }
                    (Ok(Some(change)), Ok(contact)) => {
                        assert_eq!(contact.version, current.version + 1);
                        for field in ContactField::ALL {
                            assert_eq!(contact.field(field), change.contact.field(field));
                        }
                        assert_eq!(contact.phone_e164, change.contact.phone_e164);
                        self.stored(&contact);
                        self.record(&case, AuditAction::Updated);
                    }
                    (Err(Error::Conflict { current: a, .. }), Err(Error::Conflict { current: b, .. })) => {
                        assert_eq!((a, b), (current.version, current.version));
                    }
                    (Err(Error::Validation(_)), Err(Error::Validation(_))) => {}
                    (planned, result) => panic!("update: {result:?}, but the plan was {planned:?}"),
                }
            }
            Op::Delete { case: c, contact, expected } => {
                let (case, id) = (case(c), self.pick(contact));
                let current = self.contacts.get(&id).filter(|m| m.case_id == case).cloned();
                let expected = expected.map(|e| match e {
                    Expected::Current => current.as_ref().map_or(1, |c| c.version),
                    Expected::Other(v) => v,
                });
                let result = block_on(self.repo.delete(&case, id, expected, &actor()));
                match (current, result) {
                    (None, Err(Error::NotFound { .. })) => {}
                    (Some(current), Err(Error::Conflict { current: v, .. })) => {
                        assert!(expected.is_some_and(|e| e != current.version) && v == current.version);
                    }
                    (Some(current), Ok(())) => {
                        assert!(expected.is_none_or(|e| e == current.version));
                        self.contacts.remove(&id);
                        self.record(&case, AuditAction::Deleted);
                    }
                    (current, result) => panic!("delete: {result:?}, but the model has {current:?}"),
                }
            }
            Op::EraseCase { case: c } => {
                let case = case(c);
                let n = self.in_case(&case).len() as u64;
                assert_eq!(block_on(self.repo.erase_case(&case, &actor())).expect("erase"), n);
                self.contacts.retain(|_, c| c.case_id != case);
                if n > 0 {
                    self.record(&case, AuditAction::CaseErased);
                }
            }
            Op::Case { case: c } => drop(block_on(self.repo.case(&case(c), &actor()))),
            Op::AuditTrail { case: c } => drop(self.trail(&case(c))),
            Op::Find(query) => {
                let query = match query {
                    Query::Phone(v) => ContactQuery::Phone(v.text(ContactField::Phone)),
                    Query::Email(v) => ContactQuery::Email(v.text(ContactField::Email)),
                    Query::NamePrefix(v) => ContactQuery::NamePrefix(v.text(ContactField::LastName)),
                    Query::Of { contact, kind, len } => {
                        let Some(c) = self.contacts.get(&self.pick(contact)).cloned() else { return };
                        match kind % 4 {
                            0 => ContactQuery::Phone(c.phone.unwrap_or_default()),
                            1 => ContactQuery::Email(c.email.unwrap_or_default().to_uppercase()),
                            2 => ContactQuery::NamePrefix(
                                c.first_name
                                    .unwrap_or_default()
                                    .chars()
                                    .take(usize::from(len % 8) + 1)
                                    .collect(),
                            ),
                            _ => ContactQuery::NamePrefix(c.last_name.unwrap_or_default().to_uppercase()),
                        }
                    }
                };
                self.find(query);
            }
        }
    }

    /// The invariants, in every case.
    fn check(&mut self) {
        for c in 0..CASES {
            let case = case(c);
            let model: Vec<Contact> = self.in_case(&case).into_iter().cloned().collect();
            assert_eq!(self.list(&case), model, "the pages of a listing are not the contacts of the case");
            let other = self::case(c + 1);
            for contact in &model {
                self.get(&case, contact.id).expect("a contact is found in its case");
                assert!(
                    matches!(self.get(&other, contact.id), Err(Error::NotFound { .. })),
                    "found in another case"
                );
            }
            let trail = self.trail(&case);
            assert!(trail.windows(2).all(|w| w[0].id < w[1].id), "an audit trail out of order");
            assert!(trail.iter().all(|e| e.case_id == case && e.actor == actor()));
            let actions: Vec<AuditAction> = trail.iter().map(|e| e.action).collect();
            assert_eq!(
                &actions,
                self.events.get(&case).map_or(&[][..], Vec::as_slice),
                "the audit trail of {case}"
            );
            match block_on(self.repo.case(&case, &actor())) {
                Ok(summary) => {
                    assert_eq!(summary.contact_count, model.len() as u64);
                    let first = model.iter().map(|c| c.created_at).min();
                    assert_eq!(Some(summary.first_created_at), first);
                    let changes = [
                        AuditAction::Created,
                        AuditAction::Updated,
                        AuditAction::Deleted,
                        AuditAction::CaseErased,
                    ];
                    let last_change =
                        trail.iter().filter(|e| changes.contains(&e.action)).map(|e| e.at).max();
                    assert_eq!(
                        Some(summary.last_changed_at),
                        last_change,
                        "last_changed_at is not the last change"
                    );
                }
                Err(Error::NotFound { .. }) => {
                    assert!(model.is_empty(), "a case with contacts was not found")
                }
                Err(err) => panic!("case: {err}"),
            }
        }
        let searches = self.trail(&CaseId::across_cases());
        let expected = self.events.get(&CaseId::across_cases()).map_or(0, Vec::len);
        assert_eq!(searches.len(), expected, "the searches recorded");
    }
}

fuzz_target!(|input: Input| {
    let rules = renraku_fuzz::rules(input.rules);
    let repo = MemoryContactRepository::with_rules(rules.clone()).with_read_audit(input.read_audit);
    let mut harness = Harness {
        repo,
        rules,
        read_audit: input.read_audit,
        limit: PageLimit::clamped(u16::from(input.limit % 5) + 1),
        contacts: BTreeMap::new(),
        ever: Vec::new(),
        versions: HashMap::new(),
        events: HashMap::new(),
    };
    for op in input.ops.into_iter().take(MAX_OPS) {
        harness.run(op);
        harness.check();
    }
});
