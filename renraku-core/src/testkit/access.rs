//! Access policies: the decorator asks once per operation, and a denial touches nothing.

use std::sync::Mutex;

use super::*;
use crate::access::{AccessPolicy, Action, AllowAll, PolicyRepository, Role, RoleBasedPolicy, Scope};

/// A policy that allows or denies everything and writes down every question.
#[derive(Debug, Default)]
struct Recorder {
    deny: bool,
    asked: Mutex<Vec<(String, Option<CaseId>, Action)>>,
}

#[crate::async_trait]
impl AccessPolicy for Recorder {
    async fn allows(&self, actor: &Actor, scope: Scope<'_>, action: Action) -> bool {
        let entry = (actor.as_str().to_owned(), scope.case().cloned(), action);
        self.asked.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(entry);
        !self.deny
    }
}

impl Recorder {
    fn take(&self) -> Vec<(String, Option<CaseId>, Action)> {
        std::mem::take(&mut *self.asked.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

pub async fn every_operation_asks_the_policy_once(repo: Repo) {
    let policy = Recorder::default();
    let guarded = PolicyRepository::new(repo.clone(), &policy);
    let (case, actor) = (fresh_case(), clerk());
    let asked = |action, case: Option<&CaseId>| vec![(actor.as_str().to_owned(), case.cloned(), action)];
    let page = PageRequest::default();

    let contact = guarded.create(&case, named("Ada"), &actor).await.expect("create");
    assert_eq!(policy.take(), asked(Action::Create, Some(&case)));
    guarded.create_many(&case, vec![named("Grace")], &actor).await.expect("create_many");
    assert_eq!(policy.take(), asked(Action::Create, Some(&case)));
    guarded.get(&case, contact.id, &actor).await.expect("get");
    assert_eq!(policy.take(), asked(Action::Read, Some(&case)));
    guarded.list(&case, page, &actor).await.expect("list");
    assert_eq!(policy.take(), asked(Action::Read, Some(&case)));
    guarded.case(&case, &actor).await.expect("case");
    assert_eq!(policy.take(), asked(Action::Read, Some(&case)));
    let patch = ContactPatch::default().set(ContactField::LastName, "Lovelace");
    guarded.update(&case, contact.id, patch, None, &actor).await.expect("update");
    assert_eq!(policy.take(), asked(Action::Update, Some(&case)));
    guarded.audit_trail(&case, page, &actor).await.expect("audit trail");
    assert_eq!(policy.take(), asked(Action::ReadAudit, Some(&case)));
    guarded.audit_trail(&CaseId::across_cases(), page, &actor).await.expect("audit across cases");
    assert_eq!(policy.take(), asked(Action::ReadAudit, None));
    guarded.find(ContactQuery::NamePrefix("ada".into()), page, &actor).await.expect("find");
    assert_eq!(policy.take(), asked(Action::Search, None));
    guarded.delete(&case, contact.id, None, &actor).await.expect("delete");
    assert_eq!(policy.take(), asked(Action::Delete, Some(&case)));
    guarded.erase_case(&case, &actor).await.expect("erase");
    assert_eq!(policy.take(), asked(Action::EraseCase, Some(&case)));
    let before = chrono::Utc::now() - chrono::Duration::days(3650);
    guarded.purge(before, PageLimit::MAX, &actor).await.expect("purge");
    assert_eq!(policy.take(), asked(Action::Purge, None));
    guarded.export_person(ContactQuery::NamePrefix("ada".into()), page, &actor).await.expect("export");
    assert_eq!(policy.take(), asked(Action::ExportPerson, None));
    guarded.erase_person(Vec::new(), &actor).await.expect("erase person");
    assert_eq!(policy.take(), asked(Action::ErasePerson, None));
    // Invalid input is still asked about first: the policy sees every attempt.
    assert!(guarded.create(&case, NewContact::default(), &actor).await.is_err());
    assert_eq!(policy.take(), asked(Action::Create, Some(&case)));
}

pub async fn a_denied_operation_touches_nothing(repo: Repo) {
    let (case, actor) = (fresh_case(), clerk());
    let contact = repo.create(&case, complete_contact(), &actor).await.expect("create");
    let before = audit_of(&repo, &case).await;
    let policy = Recorder { deny: true, ..Recorder::default() };
    let guarded = PolicyRepository::new(repo.clone(), &policy);
    let page = PageRequest::default();
    let denied = |result: Result<(), Error>, action: Action, in_case: bool| match result {
        Err(Error::Denied { action: a, case_id }) => {
            assert_eq!(a, action);
            assert_eq!(case_id.is_some(), in_case, "{action}");
            let message = Error::Denied { action: a, case_id }.to_string();
            assert!(!message.contains(actor.as_str()), "the denial does not name the actor: {message}");
        }
        other => panic!("{action}: expected a denial, got {other:?}"),
    };
    denied(guarded.create(&case, named("Mallory"), &actor).await.map(drop), Action::Create, true);
    denied(guarded.create_many(&case, vec![named("Mallory")], &actor).await.map(drop), Action::Create, true);
    denied(guarded.get(&case, contact.id, &actor).await.map(drop), Action::Read, true);
    denied(guarded.list(&case, page, &actor).await.map(drop), Action::Read, true);
    denied(guarded.case(&case, &actor).await.map(drop), Action::Read, true);
    let patch = ContactPatch::default().set(ContactField::LastName, "Mallory");
    denied(guarded.update(&case, contact.id, patch, None, &actor).await.map(drop), Action::Update, true);
    denied(guarded.delete(&case, contact.id, None, &actor).await, Action::Delete, true);
    denied(guarded.erase_case(&case, &actor).await.map(drop), Action::EraseCase, true);
    denied(guarded.audit_trail(&case, page, &actor).await.map(drop), Action::ReadAudit, true);
    denied(
        guarded.find(ContactQuery::NamePrefix("zo".into()), page, &actor).await.map(drop),
        Action::Search,
        false,
    );
    let future = chrono::Utc::now() + chrono::Duration::days(1);
    denied(guarded.purge(future, PageLimit::MAX, &actor).await.map(drop), Action::Purge, false);
    let query = ContactQuery::NamePrefix("zo".into());
    denied(guarded.export_person(query, page, &actor).await.map(drop), Action::ExportPerson, false);
    let everything = vec![crate::ContactRef::of(&contact)];
    denied(guarded.erase_person(everything, &actor).await.map(drop), Action::ErasePerson, false);
    assert_eq!(policy.take().len(), 13, "asked once per call");
    assert_eq!(repo.list_all(&case, &actor).await.expect("list"), [contact], "nothing changed");
    assert_eq!(audit_of(&repo, &case).await, before, "nothing recorded");
}

pub async fn roles_grant_what_the_table_says(repo: Repo) {
    let guarded = PolicyRepository::new(repo.clone(), RoleBasedPolicy);
    let case = fresh_case();
    let as_role = |role: Role| Actor::new(format!("user-{role}")).expect("actor").with_roles([role]);
    let page = PageRequest::default();
    let nobody = Actor::new("nobody").expect("actor");
    assert!(matches!(guarded.create(&case, named("Ada"), &nobody).await, Err(Error::Denied { .. })));

    let editor = as_role(Role::Editor);
    let contact = guarded.create(&case, named("Ada"), &editor).await.expect("an editor creates");
    assert!(
        matches!(guarded.get(&case, contact.id, &editor).await, Err(Error::Denied { .. })),
        "editors do not read"
    );
    let reader = as_role(Role::Reader);
    assert_eq!(guarded.get(&case, contact.id, &reader).await.expect("a reader reads"), contact);
    assert!(guarded.list(&case, page, &reader).await.is_ok() && guarded.case(&case, &reader).await.is_ok());
    let patch = ContactPatch::default().set(ContactField::LastName, "Lovelace");
    assert!(matches!(
        guarded.update(&case, contact.id, patch.clone(), None, &reader).await,
        Err(Error::Denied { .. })
    ));
    assert!(guarded.update(&case, contact.id, patch, None, &editor).await.is_ok());
    let query = || ContactQuery::NamePrefix("ada".into());
    assert!(matches!(guarded.find(query(), page, &reader).await, Err(Error::Denied { .. })));
    assert!(guarded.find(query(), page, &as_role(Role::Searcher)).await.is_ok());
    assert!(matches!(guarded.audit_trail(&case, page, &reader).await, Err(Error::Denied { .. })));
    assert!(guarded.audit_trail(&case, page, &as_role(Role::Auditor)).await.is_ok());
    assert!(matches!(guarded.erase_case(&case, &editor).await, Err(Error::Denied { .. })));
    assert!(matches!(
        guarded.delete(&case, contact.id, None, &as_role(Role::Eraser)).await,
        Err(Error::Denied { .. })
    ));
    assert_eq!(guarded.erase_case(&case, &as_role(Role::Eraser)).await.expect("an eraser erases"), 1);
    let both = Actor::new("user-both").expect("actor").with_roles([Role::Reader, Role::Editor]);
    let again = guarded.create(&case, named("Grace"), &both).await.expect("create");
    assert_eq!(guarded.get(&case, again.id, &both).await.expect("read"), again);
    assert_eq!(again.created_by, Actor::new("user-both").expect("actor"), "the id is recorded");
    assert!(again.created_by.roles().is_empty(), "roles are never recorded");
    // The suite's own path through `AllowAll` is the plain repository's behaviour.
    let allow_all = PolicyRepository::new(repo, AllowAll);
    assert_eq!(allow_all.get(&case, again.id, &nobody).await.expect("allowed"), again);
}
