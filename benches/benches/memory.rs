//! renraku-memory beside a bare map doing the same work in the same run.
//!
//! The baseline is what a host would write by hand: a `HashMap` behind one `RwLock`,
//! holding the same structs and making the same clones, with the same validation and
//! planning from renraku-core (every correct store needs them), but without the trait, its
//! boxed futures, the search indexes' upkeep or the audit map. Both are driven through the
//! same async harness.

#![allow(missing_docs, clippy::print_stdout)]

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use criterion::Criterion;
use renraku_benches::{
    Comparison, actor, alternating_patch, bench_concurrently, calls, case, concurrency_report, concurrently,
    contact, criterion, find_phone, phone, report, rules,
};
use renraku_core::access::{AllowAll, PolicyRepository, Role, RoleBasedPolicy};
use renraku_core::plan;
use renraku_core::{
    AuditEvent, CaseId, Contact, ContactId, ContactPatch, ContactQuery, ContactRepository, NewContact, Page,
    PageLimit, PageRequest, Rules, SearchKey,
};
use renraku_memory::MemoryContactRepository;

/// The hand-written baseline.
struct BareMap {
    rules: Rules,
    state: RwLock<BareState>,
}

#[derive(Default)]
struct BareState {
    cases: HashMap<CaseId, BTreeMap<ContactId, Contact>>,
    audit: Vec<AuditEvent>,
    by_phone: HashMap<String, Vec<(ContactId, CaseId)>>,
}

impl BareMap {
    fn new() -> Self {
        Self { rules: rules(), state: RwLock::default() }
    }

    fn store(state: &mut BareState, change: plan::ContactChange) -> Contact {
        let contact = change.contact;
        if let Some(e164) = &contact.phone_e164 {
            state.by_phone.entry(e164.clone()).or_default().push((contact.id, contact.case_id.clone()));
        }
        state.cases.entry(contact.case_id.clone()).or_default().insert(contact.id, contact.clone());
        state.audit.push(change.event);
        contact
    }

    fn create(&self, case: &CaseId, input: NewContact) -> Contact {
        let change = plan::create(&self.rules, case, input, actor()).expect("valid");
        Self::store(&mut self.state.write().expect("lock"), change)
    }

    fn create_many(&self, case: &CaseId, inputs: Vec<NewContact>) -> Vec<Contact> {
        let changes = plan::create_many(&self.rules, case, inputs, actor()).expect("valid");
        let mut state = self.state.write().expect("lock");
        changes.into_iter().map(|change| Self::store(&mut state, change)).collect()
    }

    fn get(&self, case: &CaseId, id: ContactId) -> Option<Contact> {
        self.state.read().expect("lock").cases.get(case)?.get(&id).cloned()
    }

    fn list(&self, case: &CaseId, page: PageRequest) -> Page<Contact> {
        let state = self.state.read().expect("lock");
        let start =
            page.after.map_or(Bound::Unbounded, |c| Bound::Excluded(ContactId::from_uuid(c.position())));
        let items = state.cases[case].range((start, Bound::Unbounded)).take(page.limit.get() + 1);
        Page::from_overfetch(items.map(|(_, c)| c.clone()).collect(), page.limit, |c| *c.id.as_uuid())
    }

    fn update(&self, case: &CaseId, id: ContactId, patch: ContactPatch, expected: u64) -> Contact {
        let patch = self.rules.check_patch(patch).expect("valid");
        let mut state = self.state.write().expect("lock");
        let current = &state.cases[case][&id];
        let change =
            plan::update(current, &patch, Some(expected), actor()).expect("current").expect("a change");
        state.cases.get_mut(case).expect("case").insert(id, change.contact.clone());
        state.audit.push(change.event);
        change.contact
    }

    fn find_by_phone(&self, phone: &str) -> Vec<Contact> {
        let Ok(SearchKey::Phone(e164)) = self.rules.check_query(ContactQuery::Phone(phone.into())) else {
            panic!("valid phone")
        };
        let state = self.state.read().expect("lock");
        let mut found: Vec<Contact> =
            state.by_phone[&e164].iter().map(|(id, case)| state.cases[case][id].clone()).collect();
        found.sort_by_key(|c| c.id);
        found.truncate(PageLimit::DEFAULT.get() + 1);
        found
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().build().expect("runtime")
}

fn bench_writes(c: &mut Criterion) {
    let rt = runtime();
    let repo = MemoryContactRepository::with_rules(rules());
    let bare = BareMap::new();
    let counter = AtomicU64::new(0);
    let next = || counter.fetch_add(1, Ordering::Relaxed) as usize;

    let mut group = c.benchmark_group("memory-create_one");
    group.bench_function("renraku", |b| {
        b.to_async(&rt)
            .iter(|| async { repo.create(&case(0), contact(next()), actor()).await.expect("create") });
    });
    group.bench_function("baseline", |b| {
        b.to_async(&rt).iter(|| async { bare.create(&case(1), contact(next())) })
    });
    group.finish();

    let batch = |offset: usize| (offset..offset + 1000).map(contact).collect::<Vec<_>>();
    let mut group = c.benchmark_group("memory-create_1000");
    group.sample_size(20);
    group.bench_function("renraku", |b| {
        b.to_async(&rt).iter_batched(
            || batch(next() * 1000),
            |inputs| async { repo.create_many(&case(2), inputs, actor()).await.expect("create_many") },
            criterion::BatchSize::LargeInput,
        );
    });
    group.bench_function("baseline", |b| {
        b.to_async(&rt).iter_batched(
            || batch(next() * 1000),
            |inputs| async { bare.create_many(&case(3), inputs) },
            criterion::BatchSize::LargeInput,
        );
    });
    group.finish();

    // Alternate between two values so that every update really changes the contact.
    let case = case(4);
    let ours = rt.block_on(repo.create(&case, contact(0), actor())).expect("create");
    let theirs = bare.create(&case, contact(0));
    let (our_version, their_version) = (AtomicU64::new(1), AtomicU64::new(1));
    let mut group = c.benchmark_group("memory-update");
    group.bench_function("renraku", |b| {
        b.to_async(&rt).iter(|| async {
            let v = our_version.fetch_add(1, Ordering::Relaxed);
            repo.update(&case, ours.id, alternating_patch(v), Some(v), actor()).await.expect("update")
        });
    });
    group.bench_function("baseline", |b| {
        b.to_async(&rt).iter(|| async {
            let v = their_version.fetch_add(1, Ordering::Relaxed);
            bare.update(&case, theirs.id, alternating_patch(v), v)
        });
    });
    group.finish();
}

/// 10,000 contacts in one case, and 100,000 in 10,000 cases, in both stores.
struct ReadFixture {
    repo: MemoryContactRepository,
    bare: Arc<BareMap>,
    big_case: CaseId,
    ids: Vec<ContactId>,
}

fn read_fixture(rt: &tokio::runtime::Runtime) -> ReadFixture {
    let repo = MemoryContactRepository::with_rules(rules());
    let bare = Arc::new(BareMap::new());
    let big_case = case(999_999);
    let inputs: Vec<_> = (0..10_000).map(contact).collect();
    let ids = rt
        .block_on(repo.create_many(&big_case, inputs.clone(), actor()))
        .expect("seed")
        .iter()
        .map(|c| c.id)
        .collect();
    let bare_ids: Vec<ContactId> = bare.create_many(&big_case, inputs).iter().map(|c| c.id).collect();
    assert_eq!(bare_ids.len(), 10_000);
    for i in 0..10_000 {
        let inputs: Vec<_> = (i * 10..i * 10 + 10).map(contact).collect();
        rt.block_on(repo.create_many(&case(i), inputs.clone(), actor())).expect("seed");
        bare.create_many(&case(i), inputs);
    }
    ReadFixture { repo, bare, big_case, ids }
}

fn bench_reads(c: &mut Criterion) {
    let rt = runtime();
    let fx = read_fixture(&rt);
    let ReadFixture { repo, bare, big_case, ids } = &fx;
    let bare_id = bare.list(big_case, PageRequest::first(PageLimit::MAX)).items[123].id;
    let (id, bare_ids) = (ids[123], bare.list(big_case, PageRequest::first(PageLimit::MAX)).items);
    let middle = |items: &[Contact]| renraku_core::Cursor::after(*items[250].id.as_uuid());

    let mut group = c.benchmark_group("memory-get");
    group.bench_function("renraku", |b| {
        b.to_async(&rt).iter(|| async { repo.get(big_case, id, actor()).await.expect("get") })
    });
    group.bench_function("baseline", |b| {
        b.to_async(&rt).iter(|| async { bare.get(big_case, bare_id).expect("get") })
    });
    group.finish();

    let ours_page =
        rt.block_on(repo.list(big_case, PageRequest::first(PageLimit::MAX), actor())).expect("list").items;
    let page = |items: &[Contact]| PageRequest::after(middle(items), PageLimit::DEFAULT);
    let (our_request, their_request) = (page(&ours_page), page(&bare_ids));
    let mut group = c.benchmark_group("memory-list_50_of_10000");
    group.bench_function("renraku", |b| {
        b.to_async(&rt).iter(|| async { repo.list(big_case, our_request, actor()).await.expect("list") });
    });
    group.bench_function("baseline", |b| {
        b.to_async(&rt).iter(|| async { bare.list(big_case, their_request) })
    });
    group.finish();

    let query = phone(4_242);
    let mut group = c.benchmark_group("memory-find_phone_in_100000");
    group.bench_function("renraku", |b| {
        b.to_async(&rt).iter(|| async { find_phone(&repo, &query, 1).await });
    });
    group.bench_function("baseline", |b| {
        b.to_async(&rt).iter(|| async {
            let found = bare.find_by_phone(&query);
            assert!(!found.is_empty());
            found
        });
    });
    group.finish();

    // What the access policy and read audit cost on the hottest read (issue 12): the plain
    // store is the baseline of each, in the same run.
    let reader = actor().clone().with_roles([Role::Reader]);
    let allow_all = PolicyRepository::new(repo.clone(), AllowAll);
    let role_based = PolicyRepository::new(repo.clone(), RoleBasedPolicy);
    let audited = MemoryContactRepository::with_rules(rules()).with_read_audit(true);
    let audited_id = rt.block_on(audited.create(big_case, contact(7), actor())).expect("create").id;
    let mut group = c.benchmark_group("memory-get_access");
    group.bench_function("baseline", |b| {
        b.to_async(&rt).iter(|| async { repo.get(big_case, id, &reader).await.expect("get") })
    });
    group.bench_function("allow_all_policy", |b| {
        b.to_async(&rt).iter(|| async { allow_all.get(big_case, id, &reader).await.expect("get") })
    });
    group.bench_function("role_based_policy", |b| {
        b.to_async(&rt).iter(|| async { role_based.get(big_case, id, &reader).await.expect("get") })
    });
    group.bench_function("read_audit", |b| {
        b.to_async(&rt).iter(|| async { audited.get(big_case, audited_id, &reader).await.expect("get") })
    });
    group.finish();
}

/// The cost of a policy and of read audit on `get`, as time per call beside the plain store.
fn access_report() {
    use renraku_benches::median_ns;
    println!("\n## memory: get through a policy and with read audit (issue 12)\n");
    println!("| path | time per get | throughput vs the plain store |\n|---|---|---|");
    let Some(plain) = median_ns("memory-get_access", "baseline") else { return };
    for path in ["baseline", "allow_all_policy", "role_based_policy", "read_audit"] {
        if let Some(ns) = median_ns("memory-get_access", path) {
            println!("| {path} | {} | {:.2} |", renraku_benches::time(ns), plain / ns);
        }
    }
}

/// What validation and planning alone cost: the domain work inside every create.
fn bench_core(c: &mut Criterion) {
    let (rules, case, actor) = (rules(), case(0), actor());
    let counter = AtomicU64::new(0);
    c.bench_function("core-plan_create_one", |b| {
        b.iter_batched(
            || contact(counter.fetch_add(1, Ordering::Relaxed) as usize),
            |input| plan::create(&rules, &case, input, actor),
            criterion::BatchSize::SmallInput,
        );
    });
}

/// Each operation from 1 thread, then from 2 at once (the machine's cores), on both stores.
const THREADS: [usize; 2] = [1, 2];

fn threads_targets() -> Vec<Comparison> {
    let target = |group, target| Comparison { group, target };
    vec![
        target("memory-threads-create_one", Some(0.8)),
        target("memory-threads-get", Some(0.8)),
        target("memory-threads-list_50_of_10000", Some(0.8)),
        target("memory-threads-update", Some(0.8)),
        target("memory-threads-find_phone_in_100000", Some(0.8)),
    ]
}

/// The operations of `bench_writes` and `bench_reads` from 1 and 2 threads: tasks on a
/// runtime of 2 worker threads, each task on its own contact where it writes.
fn bench_threads(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().expect("runtime");
    let fx = read_fixture(&runtime());
    let (repo, bare, big_case) = (fx.repo.clone(), fx.bare.clone(), fx.big_case.clone());
    let id = fx.ids[123];
    let bare_items = bare.list(&big_case, PageRequest::first(PageLimit::MAX)).items;
    let bare_id = bare_items[123].id;
    let ours_items =
        rt.block_on(repo.list(&big_case, PageRequest::first(PageLimit::MAX), actor())).expect("list").items;
    let page = |items: &[Contact]| {
        PageRequest::after(renraku_core::Cursor::after(*items[250].id.as_uuid()), PageLimit::DEFAULT)
    };
    let (our_page, their_page) = (page(&ours_items), page(&bare_items));

    // Creates go into a new store at every measurement (made and dropped outside the clock):
    // a store that grew by millions of contacts over the earlier runs would make each run
    // measure a different heap, and the order of the runs would decide the ratio.
    let mut group = c.benchmark_group("memory-threads-create_one");
    for threads in THREADS {
        group.bench_function(format!("renraku-{threads}"), |b| {
            b.iter_custom(|iters| {
                let repo = MemoryContactRepository::with_rules(rules());
                concurrently(&rt, threads, iters, |t, n| {
                    calls(n, (repo.clone(), case(t)), async |(repo, case), i| {
                        repo.create(case, contact(i as usize), actor()).await.expect("create")
                    })
                })
            });
        });
        group.bench_function(format!("baseline-{threads}"), |b| {
            b.iter_custom(|iters| {
                let bare = Arc::new(BareMap::new());
                concurrently(&rt, threads, iters, |t, n| {
                    calls(n, (bare.clone(), case(t)), async |(bare, case), i| {
                        bare.create(case, contact(i as usize))
                    })
                })
            });
        });
    }
    group.finish();

    let mut group = c.benchmark_group("memory-threads-get");
    bench_concurrently(
        &mut group,
        &rt,
        &THREADS,
        |_, n| {
            calls(n, (repo.clone(), big_case.clone()), async move |(repo, case), _| {
                repo.get(case, id, actor()).await.expect("get")
            })
        },
        |_, n| {
            calls(n, (bare.clone(), big_case.clone()), async move |(bare, case), _| {
                bare.get(case, bare_id).expect("get")
            })
        },
    );
    group.finish();

    let mut group = c.benchmark_group("memory-threads-list_50_of_10000");
    bench_concurrently(
        &mut group,
        &rt,
        &THREADS,
        |_, n| {
            calls(n, (repo.clone(), big_case.clone()), async move |(repo, case), _| {
                repo.list(case, our_page, actor()).await.expect("list")
            })
        },
        |_, n| {
            calls(n, (bare.clone(), big_case.clone()), async move |(bare, case), _| {
                bare.list(case, their_page)
            })
        },
    );
    group.finish();

    // Each task updates a contact of its own, so that versions never conflict.
    let case = case(300);
    let ours: Vec<ContactId> = (0..THREADS[1])
        .map(|i| rt.block_on(repo.create(&case, contact(i), actor())).expect("create").id)
        .collect();
    let theirs: Vec<ContactId> = (0..THREADS[1]).map(|i| bare.create(&case, contact(i)).id).collect();
    let versions = |n| Arc::new((0..n).map(|_| AtomicU64::new(1)).collect::<Vec<_>>());
    let (our_versions, their_versions) = (versions(ours.len()), versions(theirs.len()));
    let mut group = c.benchmark_group("memory-threads-update");
    bench_concurrently(
        &mut group,
        &rt,
        &THREADS,
        |t, n| {
            let state = (repo.clone(), case.clone(), ours[t], our_versions.clone());
            calls(n, state, async move |(repo, case, id, versions), _| {
                let v = versions[t].fetch_add(1, Ordering::Relaxed);
                repo.update(case, *id, alternating_patch(v), Some(v), actor()).await.expect("update")
            })
        },
        |t, n| {
            let state = (bare.clone(), case.clone(), theirs[t], their_versions.clone());
            calls(n, state, async move |(bare, case, id, versions), _| {
                let v = versions[t].fetch_add(1, Ordering::Relaxed);
                bare.update(case, *id, alternating_patch(v), v)
            })
        },
    );
    group.finish();

    let query = phone(4_242);
    let mut group = c.benchmark_group("memory-threads-find_phone_in_100000");
    bench_concurrently(
        &mut group,
        &rt,
        &THREADS,
        |_, n| {
            calls(n, (repo.clone(), query.clone()), async |(repo, query), _| find_phone(repo, query, 1).await)
        },
        |_, n| {
            calls(n, (bare.clone(), query.clone()), async |(bare, query), _| {
                let found = bare.find_by_phone(query);
                assert!(!found.is_empty());
                found
            })
        },
    );
    group.finish();
}

fn main() {
    let mut c = criterion();
    bench_core(&mut c);
    bench_writes(&mut c);
    bench_reads(&mut c);
    bench_threads(&mut c);
    c.final_summary();
    let target = |group, target| Comparison { group, target };
    report(
        "memory",
        &[
            target("memory-create_one", None),
            target("memory-create_1000", None),
            target("memory-get", Some(0.8)),
            target("memory-list_50_of_10000", Some(0.8)),
            target("memory-update", None),
            target("memory-find_phone_in_100000", None),
        ],
    );
    access_report();
    concurrency_report("memory-threads", "threads", &THREADS, &threads_targets());
    if let Some(ns) = renraku_benches::median_ns("core-plan_create_one", "") {
        println!("\ncore: validating and planning one complete contact takes {}", renraku_benches::time(ns));
    }
}
