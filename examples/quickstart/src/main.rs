//! The smallest host application: renraku embedded with the in-memory store, start to
//! finish.
//!
//! Run it with `cargo run -p renraku-quickstart`. It uses only the public API of
//! `renraku-core` and `renraku-memory`, as a host application would: a bulk create, an
//! update with an expected version, a version conflict and how to handle it, a search
//! across cases, the case summary, the audit trail, and erasing the case.
//!
//! It prints ids, versions, codes and field names, never names, numbers or addresses: the
//! same rule a host's logs should follow.

// An example prints by design: its output is the demonstration.
#![allow(clippy::print_stdout)]

use std::sync::Arc;

use renraku_core::{
    Actor, AuditEvent, CaseId, ContactField, ContactPatch, ContactQuery, ContactRepository,
    ContactRepositoryExt, Error, NewContact, PageRequest, Rules,
};
use renraku_memory::MemoryContactRepository;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), BoxError> {
    // National numbers such as "030 1234567" are German unless they carry a country code.
    let rules = Rules::default().with_default_region("DE".parse()?);
    // The host holds a trait object: moving to PostgreSQL changes this line only.
    let repo: Arc<dyn ContactRepository> = Arc::new(MemoryContactRepository::with_rules(rules));

    // The host's own ids: its case numbers and its users.
    let case: CaseId = "42".parse()?;
    let other_case: CaseId = "2024-117".parse()?;
    let clerk = Actor::new("clerk-7")?;
    let supervisor = Actor::new("supervisor-2")?;

    // 1. A household, in one bulk create: all contacts are stored, or none.
    let household = repo
        .create_many(
            &case,
            vec![
                NewContact {
                    title: Some("Frau".into()),
                    first_name: Some("Mai".into()),
                    last_name: Some("Nguyễn".into()),
                    phone: Some("030 1234567".into()),
                    relationship: Some("household".into()),
                    ..NewContact::default()
                },
                NewContact {
                    first_name: Some("Minh".into()),
                    last_name: Some("Nguyễn".into()),
                    email: Some("minh@example.org".into()),
                    relationship: Some("household".into()),
                    ..NewContact::default()
                },
                NewContact {
                    first_name: Some("Zoë-Marie".into()),
                    last_name: Some("O'Brien".into()),
                    phone: Some("+49 151 12345678".into()),
                    relationship: Some("neighbour".into()),
                    ..NewContact::default()
                },
            ],
            &clerk,
        )
        .await?;
    println!("created {} contacts in case {case} with one bulk create", household.len());

    // A bulk create with invalid rows stores nothing; the error lists every invalid row by
    // its index, field and code, never by its value.
    let invalid = vec![
        NewContact { last_name: Some("Lovelace".into()), ..NewContact::default() },
        NewContact { first_name: Some("R2D2".into()), ..NewContact::default() },
        NewContact { last_name: Some("Byron".into()), phone: Some("12".into()), ..NewContact::default() },
    ];
    match repo.create_many(&case, invalid, &clerk).await {
        Err(Error::Validation(errors)) => {
            let rows: Vec<String> = errors
                .iter()
                .map(|e| format!("row {} {} ({})", e.index.unwrap_or_default(), e.field, e.code))
                .collect();
            println!("a bulk create with invalid rows stored nothing: {}", rows.join(", "));
        }
        Ok(_) => return Err("invalid rows must be rejected".into()),
        Err(other) => return Err(other.into()),
    }

    // The same person's number in another case, typed differently.
    let elsewhere = NewContact {
        last_name: Some("Nguyen".into()),
        phone: Some("+49 (30) 123 45 67".into()),
        ..NewContact::default()
    };
    repo.create(&other_case, elsewhere, &clerk).await?;

    // 2. An update that applies only if nobody changed the contact since it was read.
    let mai = &household[0];
    let add_email = ContactPatch::default().set(ContactField::Email, "mai.nguyen@example.org");
    let mai_now = repo.update(&case, mai.id, add_email, Some(mai.version), &clerk).await?;
    println!("clerk-7 added an email to contact {}: version {} -> {}", mai.id, mai.version, mai_now.version);

    // The same value again (even typed with spaces around it) changes nothing.
    let same_email = ContactPatch::default().set(ContactField::Email, " mai.nguyen@example.org ");
    let unchanged = repo.update(&case, mai.id, same_email, None, &clerk).await?;
    println!("setting the same email again changes nothing: still version {}", unchanged.version);

    // 3. A conflict: the clerk opened the neighbour's record at version 1; meanwhile the
    // supervisor changed it. The clerk's update must not silently overwrite that change.
    let zoe = &household[2];
    let supervisors_edit = ContactPatch::default().set(ContactField::Relationship, "neighbour, key holder");
    repo.update(&case, zoe.id, supervisors_edit, Some(zoe.version), &supervisor).await?;

    let clerks_edit = ContactPatch::default().set(ContactField::Email, "zoe@example.org");
    match repo.update(&case, zoe.id, clerks_edit.clone(), Some(zoe.version), &clerk).await {
        Err(Error::Conflict { expected, current }) => {
            let expected = expected.map_or_else(|| "none".to_owned(), |v| v.to_string());
            println!("conflict: clerk-7 expected version {expected}, the contact is at version {current}");
            // The host re-reads, shows the user the current state, and applies the edit to it.
            let fresh = repo.get(&case, zoe.id, &clerk).await?;
            let retried = repo.update(&case, zoe.id, clerks_edit, Some(fresh.version), &clerk).await?;
            println!(
                "retried on version {}: the contact is now at version {}",
                fresh.version, retried.version
            );
        }
        Ok(_) => return Err("a stale expected version must conflict".into()),
        Err(other) => return Err(other.into()),
    }

    // 4. Search across cases by phone number, whatever the formatting. This crosses case
    // scopes on purpose: a real host checks that its user may do that first.
    let hits =
        repo.find(ContactQuery::Phone("030 / 123 45 67".into()), PageRequest::default(), &clerk).await?;
    let cases: Vec<String> = hits.items.iter().map(|c| c.case_id.to_string()).collect();
    println!("phone search across cases: {} contacts, in cases {}", hits.items.len(), cases.join(", "));

    // 5. The case summary.
    let summary = repo.case(&case, &clerk).await?;
    println!(
        "case {}: {} contacts, first created {}, last changed {}",
        summary.id, summary.contact_count, summary.first_created_at, summary.last_changed_at
    );

    // 6. The audit trail: who did what to which fields, never the values.
    println!("audit trail of case {case}:");
    for event in repo.audit_trail(&case, PageRequest::default(), &clerk).await?.items {
        println!("  {}", describe(&event));
    }

    // 7. Erase the case: every contact, with one audit event. The trail is kept.
    let erased = repo.erase_case(&case, &supervisor).await?;
    println!("erased {erased} contacts of case {case}");
    match repo.case(&case, &clerk).await {
        Err(not_found @ Error::NotFound { .. }) => println!("afterwards: {not_found}"),
        Ok(_) => return Err("an erased case must have no contacts".into()),
        Err(other) => return Err(other.into()),
    }
    let trail = repo.audit_trail(&case, PageRequest::default(), &clerk).await?.items;
    if let Some(last) = trail.last() {
        println!("the audit trail keeps {} events; the last: {}", trail.len(), describe(last));
    }
    println!("case {other_case} still has {} contact(s)", repo.list_all(&other_case, &clerk).await?.len());
    Ok(())
}

/// One line per audit event: the action, the actor, the contact and the changed fields.
fn describe(event: &AuditEvent) -> String {
    let fields: Vec<&str> = event.changed_fields.iter().map(|f| f.name()).collect();
    let contact = event.contact_id.map_or_else(|| "the whole case".to_owned(), |id| format!("contact {id}"));
    format!("{} by {} on {}: [{}]", event.action, event.actor, contact, fields.join(", "))
}
