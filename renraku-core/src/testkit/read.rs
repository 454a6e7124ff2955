//! Reading: case scope, single contacts and keyset pages.

use super::*;

pub async fn contacts_are_invisible_through_other_cases(repo: Repo) {
    let (case, other) = (fresh_case(), fresh_case());
    let contact = repo.create(&case, complete_contact(), &clerk()).await.expect("create");
    assert_not_found(repo.get(&other, contact.id, &clerk()).await, "get through another case");
    let patch = ContactPatch::default().set(ContactField::FirstName, "Mallory");
    assert_not_found(repo.update(&other, contact.id, patch.clone(), None, &clerk()).await, "update");
    assert_not_found(repo.update(&other, contact.id, patch, Some(1), &clerk()).await, "update with version");
    assert_not_found(repo.delete(&other, contact.id, None, &clerk()).await, "delete");
    assert_eq!(repo.erase_case(&other, &clerk()).await.expect("erase"), 0);
    assert!(repo.list_all(&other, &clerk()).await.expect("list").is_empty());
    assert_not_found(repo.case(&other, &clerk()).await, "case summary");
    assert!(audit_of(&repo, &other).await.is_empty());
    assert_eq!(repo.get(&case, contact.id, &clerk()).await.expect("still there"), contact, "nothing changed");
}

pub async fn get_of_an_unknown_contact_is_not_found(repo: Repo) {
    let case = fresh_case();
    repo.create(&case, named("Ada"), &clerk()).await.expect("create");
    assert_not_found(repo.get(&case, ContactId::new(), &clerk()).await, "unknown id");
}

pub async fn list_pages_in_creation_order(repo: Repo) {
    let case = fresh_case();
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(
            repo.create(&case, named("Ada").with(ContactField::Relationship, format!("{i}")), &clerk())
                .await
                .expect("create"),
        );
    }
    repo.create(&fresh_case(), named("Other"), &clerk()).await.expect("other case");
    let clerk = clerk();
    let pages = walk(|request| repo.list(&case, request, &clerk), 3).await;
    let sizes: Vec<_> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [3, 3, 1]);
    assert_eq!(pages.concat(), created, "oldest first, each exactly once");
    let exact = walk(|request| repo.list(&case, request, &clerk), 7).await;
    assert_eq!(exact.len(), 1, "a full last page has no next cursor");
}

pub async fn list_walk_sees_every_contact_once_during_inserts(repo: Repo) {
    let case = fresh_case();
    let inputs = (0..40).map(|i| named("Ada").with(ContactField::Relationship, format!("{i}"))).collect();
    let before: Vec<ContactId> =
        repo.create_many(&case, inputs, &clerk()).await.expect("seed").iter().map(|c| c.id).collect();
    let writer = {
        let (repo, case) = (repo.clone(), case.clone());
        tokio::spawn(async move {
            for i in 0..40 {
                repo.create(
                    &case,
                    named("Grace").with(ContactField::Relationship, format!("new {i}")),
                    &clerk(),
                )
                .await
                .expect("concurrent create");
                tokio::task::yield_now().await;
            }
        })
    };
    let pages = walk(
        |request| {
            let repo = &repo;
            let case = &case;
            async move {
                tokio::task::yield_now().await;
                repo.list(case, request, &clerk()).await
            }
        },
        3,
    )
    .await;
    writer.await.expect("writer");
    let seen: Vec<ContactId> = pages.concat().iter().map(|c| c.id).collect();
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no contact twice");
    assert!(before.iter().all(|id| unique.contains(id)), "every contact that existed throughout is seen");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "in id order");
}

pub async fn list_of_an_unknown_case_is_empty(repo: Repo) {
    let page = repo.list(&fresh_case(), PageRequest::default(), &clerk()).await.expect("list");
    assert!(page.items.is_empty());
    assert_eq!(page.next, None);
}
