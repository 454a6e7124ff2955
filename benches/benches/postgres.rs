//! renraku-postgres beside hand-written sqlx doing the same work, on the same pool and
//! server, in the same run.
//!
//! Each baseline writes the same rows (contact and audit event) in one transaction, with
//! plain statements a host would write by hand; validation and planning come from
//! renraku-core in both, so the ratio measures the storage path. Bulk create is compared
//! with a raw `COPY` of the same rows.

#![allow(missing_docs, clippy::print_stdout)]

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use criterion::{BatchSize, Criterion, Throughput};
use renraku_benches::{
    Comparison, actor, alternating_patch, bench_concurrently, calls, case, concurrency_report, contact,
    criterion, find_phone, hand_written, phone, report, rules, time,
};
use renraku_core::plan::{self, ContactChange};
use renraku_core::{
    Actor, CaseId, Contact, ContactField, ContactId, ContactPatch, ContactQuery, ContactRepository, Cursor,
    NewContact, Page, PageLimit, PageRequest, Rules, SearchKey,
};
use renraku_postgres::PgContactRepository;
use renraku_postgres::testkit::TestServer;
use sqlx::{AssertSqlSafe, Postgres};
use uuid::Uuid;

type Row = (
    String,
    Uuid,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    chrono::DateTime<chrono::Utc>,
    chrono::DateTime<chrono::Utc>,
    String,
    String,
);

/// The hand-written baseline: plain statements on the same tables.
struct HandWritten {
    writes: hand_written::HandWritten,
    rules: Rules,
}

impl HandWritten {
    fn sql(&self, text: &str) -> AssertSqlSafe<String> {
        self.writes.sql(text)
    }

    async fn create(&self, case: &CaseId, input: NewContact) -> Contact {
        let change = plan::create(&self.rules, case, input, actor()).expect("valid");
        let mut tx = self.writes.pool.begin().await.expect("begin");
        self.writes.insert_contact(&mut tx, &change).await;
        self.writes.insert_event(&mut tx, &change.event).await;
        tx.commit().await.expect("commit");
        change.contact
    }

    /// The same rows as renraku's bulk create, with `COPY` (text format).
    async fn copy(&self, case: &CaseId, inputs: Vec<NewContact>) -> usize {
        let changes = plan::create_many(&self.rules, case, inputs, actor()).expect("valid");
        let (mut contacts, mut events) = (String::new(), String::new());
        for ContactChange { contact: c, event: e, keys } in &changes {
            let text = |v: Option<&str>| v.map_or_else(|| "\\N".to_owned(), copy_escape);
            let columns = [
                copy_escape(c.case_id.as_str()),
                c.id.to_string(),
                text(c.title.as_deref()),
                text(c.first_name.as_deref()),
                text(c.last_name.as_deref()),
                text(c.phone.as_deref()),
                text(c.phone_e164.as_deref()),
                text(c.email.as_deref()),
                text(c.address.as_deref()),
                text(c.relationship.as_deref()),
                text(keys.email.as_deref()),
                text(keys.first_name.as_deref()),
                text(keys.last_name.as_deref()),
                "1".to_owned(),
                c.created_at.to_rfc3339(),
                c.updated_at.to_rfc3339(),
                copy_escape(c.created_by.as_str()),
                copy_escape(c.updated_by.as_str()),
            ];
            contacts.push_str(&columns.join("\t"));
            contacts.push('\n');
            let fields: Vec<&str> = e.changed_fields.iter().map(|f| f.name()).collect();
            let event = [
                copy_escape(e.case_id.as_str()),
                e.id.to_string(),
                c.id.to_string(),
                e.action.as_str().to_owned(),
                copy_escape(e.actor.as_str()),
                format!("{{{}}}", fields.join(",")),
                e.at.to_rfc3339(),
            ];
            events.push_str(&event.join("\t"));
            events.push('\n');
        }
        let mut conn = self.writes.pool.acquire().await.expect("acquire");
        let mut tx = sqlx::Connection::begin(&mut *conn).await.expect("begin");
        let copy_contacts = format!(
            "COPY \"{}\".contacts (case_id, id, title, first_name, last_name, phone, phone_e164, email, address,
                relationship, email_key, first_name_key, last_name_key, version, created_at, updated_at,
                created_by, updated_by) FROM STDIN",
            self.writes.schema()
        );
        let mut copy = tx.copy_in_raw(&copy_contacts).await.expect("copy contacts");
        copy.send(contacts.as_bytes()).await.expect("send");
        copy.finish().await.expect("finish");
        let copy_events = format!(
            "COPY \"{}\".audit_events (case_id, id, contact_id, action, actor, changed_fields, at) FROM STDIN",
            self.writes.schema()
        );
        let mut copy = tx.copy_in_raw(&copy_events).await.expect("copy events");
        copy.send(events.as_bytes()).await.expect("send");
        copy.finish().await.expect("finish");
        tx.commit().await.expect("commit");
        changes.len()
    }

    /// The rows of `changes` (planned by the caller) with binary `COPY` (issue 16's trial):
    /// both tables, one transaction.
    async fn copy_binary(&self, changes: Vec<ContactChange>) -> usize {
        let (mut contacts, mut events) = (BinaryCopy::new(), BinaryCopy::new());
        for ContactChange { contact: c, event: e, keys } in &changes {
            contacts.row(18);
            contacts.text(Some(c.case_id.as_str()));
            contacts.uuid(Some(*c.id.as_uuid()));
            for value in
                [&c.title, &c.first_name, &c.last_name, &c.phone, &c.phone_e164, &c.email, &c.address]
                    .into_iter()
                    .chain([&c.relationship, &keys.email, &keys.first_name, &keys.last_name])
            {
                contacts.text(value.as_deref());
            }
            contacts.int8(1);
            contacts.timestamp(c.created_at);
            contacts.timestamp(c.updated_at);
            contacts.text(Some(c.created_by.as_str()));
            contacts.text(Some(c.updated_by.as_str()));
            events.row(7);
            events.text(Some(e.case_id.as_str()));
            events.uuid(Some(*e.id.as_uuid()));
            events.uuid(e.contact_id.map(|id| *id.as_uuid()));
            events.text(Some(e.action.as_str()));
            events.text(Some(e.actor.as_str()));
            events.text_array(e.changed_fields.iter().map(|f| f.name()));
            events.timestamp(e.at);
        }
        let mut conn = self.writes.pool.acquire().await.expect("acquire");
        let mut tx = sqlx::Connection::begin(&mut *conn).await.expect("begin");
        let schema = self.writes.schema();
        for (table, columns, data) in [
            (
                "contacts",
                "case_id, id, title, first_name, last_name, phone, phone_e164, email, address, relationship, \
                 email_key, first_name_key, last_name_key, version, created_at, updated_at, created_by, updated_by",
                contacts.finish(),
            ),
            ("audit_events", "case_id, id, contact_id, action, actor, changed_fields, at", events.finish()),
        ] {
            let sql = format!("COPY \"{schema}\".{table} ({columns}) FROM STDIN (FORMAT binary)");
            let mut copy = tx.copy_in_raw(&sql).await.expect("copy");
            copy.send(data).await.expect("send");
            copy.finish().await.expect("finish");
        }
        tx.commit().await.expect("commit");
        changes.len()
    }

    fn select(&self, sql: &str) -> SelectQuery<'static> {
        sqlx::query_as(self.sql(&format!("SELECT {COLUMNS} FROM {{s}}.contacts WHERE {sql}")))
    }

    async fn fetch(&self, query: SelectQuery<'_>) -> Vec<Contact> {
        let rows: Vec<Row> = query.fetch_all(&self.writes.pool).await.expect("select");
        rows.into_iter().map(contact_from).collect()
    }

    async fn get(&self, case: &CaseId, id: ContactId) -> Contact {
        let query = self.select("case_id = $1 AND id = $2").bind(case.as_str()).bind(*id.as_uuid());
        self.fetch(query).await.pop().expect("found")
    }

    async fn list(&self, case: &CaseId, page: PageRequest) -> Page<Contact> {
        let after = page.after.map_or(Uuid::nil(), |c| c.position());
        let query = self.select("case_id = $1 AND id > $2 ORDER BY id LIMIT $3");
        let items = self.fetch(query.bind(case.as_str()).bind(after).bind(page.limit.get() as i64 + 1)).await;
        Page::from_overfetch(items, page.limit, |c| *c.id.as_uuid())
    }

    async fn update(
        &self,
        case: &CaseId,
        id: ContactId,
        patch: ContactPatch,
        expected: u64,
        actor: &Actor,
    ) -> Contact {
        let patch = self.rules.check_patch(patch).expect("valid");
        let current = self.get(case, id).await;
        let change =
            plan::update(&current, &patch, Some(expected), actor).expect("current").expect("a change");
        let mut tx = self.writes.pool.begin().await.expect("begin");
        self.writes.update_contact(&mut tx, case, id, expected, &change).await;
        self.writes.insert_event(&mut tx, &change.event).await;
        tx.commit().await.expect("commit");
        change.contact
    }

    async fn find_by_phone(&self, phone: &str) -> Vec<Contact> {
        let Ok(SearchKey::Phone(e164)) = self.rules.check_query(ContactQuery::Phone(phone.into())) else {
            panic!("valid phone")
        };
        let query = self.select("phone_e164 = $1 AND id > $2 ORDER BY id LIMIT $3");
        self.fetch(query.bind(e164).bind(Uuid::nil()).bind(PageLimit::DEFAULT.get() as i64 + 1)).await
    }
}

type SelectQuery<'q> = sqlx::query::QueryAs<'q, Postgres, Row, sqlx::postgres::PgArguments>;

const COLUMNS: &str = "case_id, id, title, first_name, last_name, phone, phone_e164, email, address, relationship, \
                       version, created_at, updated_at, created_by, updated_by";

fn contact_from(r: Row) -> Contact {
    Contact {
        case_id: CaseId::new(r.0).expect("case id"),
        id: ContactId::from_uuid(r.1),
        title: r.2,
        first_name: r.3,
        last_name: r.4,
        phone: r.5,
        phone_e164: r.6,
        email: r.7,
        address: r.8,
        relationship: r.9,
        version: r.10 as u64,
        created_at: r.11,
        updated_at: r.12,
        created_by: Actor::new(r.13).expect("actor"),
        updated_by: Actor::new(r.14).expect("actor"),
    }
}

/// The binary format of `COPY ... FROM STDIN`, written by hand (PostgreSQL's documentation,
/// "Binary Format"): the trial needs five types, and no maintained encoder crate for sqlx
/// was found.
struct BinaryCopy(Vec<u8>);

impl BinaryCopy {
    fn new() -> Self {
        let mut bytes = b"PGCOPY\n\xff\r\n\0".to_vec();
        bytes.extend([0; 8]); // flags, header extension length
        Self(bytes)
    }

    fn row(&mut self, fields: i16) {
        self.0.extend(fields.to_be_bytes());
    }

    fn field(&mut self, value: Option<&[u8]>) {
        match value {
            Some(bytes) => {
                self.0.extend(i32::try_from(bytes.len()).expect("a field under 2 GiB").to_be_bytes());
                self.0.extend(bytes);
            }
            None => self.0.extend((-1_i32).to_be_bytes()),
        }
    }

    fn text(&mut self, value: Option<&str>) {
        self.field(value.map(str::as_bytes));
    }

    fn uuid(&mut self, value: Option<Uuid>) {
        self.field(value.as_ref().map(|uuid| &uuid.as_bytes()[..]));
    }

    fn int8(&mut self, value: i64) {
        self.field(Some(&value.to_be_bytes()));
    }

    /// Microseconds since 2000-01-01 UTC.
    fn timestamp(&mut self, at: chrono::DateTime<chrono::Utc>) {
        const POSTGRES_EPOCH_MICROS: i64 = 946_684_800_000_000;
        self.int8(at.timestamp_micros() - POSTGRES_EPOCH_MICROS);
    }

    /// A one-dimensional `text[]` without NULLs.
    fn text_array<'a>(&mut self, items: impl ExactSizeIterator<Item = &'a str>) {
        const TEXT_OID: i32 = 25;
        let len = i32::try_from(items.len()).expect("a short array");
        let mut array: Vec<u8> =
            [1, 0, TEXT_OID, len, 1].iter().flat_map(|n: &i32| n.to_be_bytes()).collect();
        for item in items {
            array.extend(i32::try_from(item.len()).expect("a short item").to_be_bytes());
            array.extend(item.as_bytes());
        }
        self.field(Some(&array));
    }

    fn finish(mut self) -> Vec<u8> {
        self.0.extend((-1_i16).to_be_bytes());
        self.0
    }
}

/// Escapes a value for `COPY ... FROM STDIN` in text format.
fn copy_escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\t', "\\t").replace('\n', "\\n").replace('\r', "\\r")
}

/// The binary `COPY` trial stores what renraku stores: the rows read back through renraku
/// equal the planned contacts, with their events.
fn check_binary_copy(rt: &tokio::runtime::Runtime, hand: &HandWritten) {
    let repo = PgContactRepository::builder(hand.writes.pool.clone())
        .schema(hand.writes.schema())
        .rules(rules())
        .build()
        .expect("options");
    let case = case(800_000);
    let changes = plan::create_many(&rules(), &case, (0..10).map(contact).collect(), actor()).expect("valid");
    let stored = rt.block_on(hand.copy_binary(changes));
    let read = rt.block_on(repo.list(&case, PageRequest::default(), actor())).expect("list").items;
    let trail = rt.block_on(repo.audit_trail(&case, PageRequest::default(), actor())).expect("trail").items;
    assert_eq!((stored, read.len(), trail.len()), (10, 10, 10));
    let values =
        |c: &Contact| (ContactField::ALL.map(|f| c.field(f).map(str::to_owned)), c.phone_e164.clone());
    for (stored, i) in read.iter().zip(0..) {
        let planned = plan::create(&rules(), &case, contact(i), actor()).expect("valid").contact;
        assert_eq!(values(stored), values(&planned), "binary COPY stored contact {i} as planned");
        assert_eq!((stored.version, stored.created_by.as_str()), (1, actor().as_str()));
    }
    assert!(trail.iter().all(|e| e.changed_fields.len() == 7), "binary COPY stored the events' fields");
    let email = ContactQuery::Email("PERSON3@example.org".into());
    let found = rt.block_on(repo.find(email, PageRequest::default(), actor())).expect("find").items;
    assert!(found.iter().any(|c| c.case_id == case), "binary COPY stored the search keys");
}

struct Fixture {
    rt: tokio::runtime::Runtime,
    repo: PgContactRepository,
    hand: Arc<HandWritten>,
}

/// One pool of 8 connections, on a runtime with a worker per core: the concurrent tasks run
/// on both, and the calls one at a time on the thread that waits for them.
fn fixture() -> Fixture {
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let (repo, hand) = rt.block_on(async {
        let (repo, writes) = hand_written::migrated(TestServer::shared()).await;
        (repo, Arc::new(HandWritten { writes, rules: rules() }))
    });
    Fixture { rt, repo, hand }
}

/// What the reads need of the seeded data.
struct Seeded {
    big_case: CaseId,
    id: ContactId,
    page: PageRequest,
}

fn bench_writes(c: &mut Criterion, fx: &Fixture) {
    let Fixture { rt, repo, hand } = fx;
    let counter = AtomicUsize::new(0);
    let next = || counter.fetch_add(1, Ordering::Relaxed);

    let mut group = c.benchmark_group("postgres-create_one");
    group.bench_function("renraku", |b| {
        b.to_async(rt)
            .iter(|| async { repo.create(&case(0), contact(next()), actor()).await.expect("create") });
    });
    group.bench_function("baseline", |b| {
        b.to_async(rt).iter(|| async { hand.create(&case(1), contact(next())).await })
    });
    group.finish();

    let batch = |_| (0..1000).map(|i| contact(next() + i)).collect::<Vec<_>>();
    let mut group = c.benchmark_group("postgres-create_1000");
    group.sample_size(20).throughput(Throughput::Elements(1000));
    group.bench_function("renraku", |b| {
        b.to_async(rt).iter_batched(
            || batch(()),
            |inputs| async { repo.create_many(&case(2), inputs, actor()).await.expect("create_many") },
            BatchSize::LargeInput,
        );
    });
    group.bench_function("baseline", |b| {
        b.to_async(rt).iter_batched(
            || batch(()),
            |inputs| async { hand.copy(&case(3), inputs).await },
            BatchSize::LargeInput,
        );
    });
    // Planned before the clock starts: this measures the storage path alone, which favours
    // the trial (renraku's time includes validating and planning).
    group.bench_function("binary_copy", |b| {
        b.to_async(rt).iter_batched(
            || plan::create_many(&rules(), &case(5), batch(()), actor()).expect("valid"),
            |changes| async { hand.copy_binary(changes).await },
            BatchSize::LargeInput,
        );
    });
    group.finish();
    check_binary_copy(rt, hand);

    let case = case(4);
    let ours = rt.block_on(repo.create(&case, contact(0), actor())).expect("create");
    let theirs = rt.block_on(hand.create(&case, contact(0)));
    let (our_version, their_version) = (AtomicU64::new(1), AtomicU64::new(1));
    let mut group = c.benchmark_group("postgres-update");
    group.bench_function("renraku", |b| {
        b.to_async(rt).iter(|| async {
            let v = our_version.fetch_add(1, Ordering::Relaxed);
            repo.update(&case, ours.id, alternating_patch(v), Some(v), actor()).await.expect("update")
        });
    });
    group.bench_function("baseline", |b| {
        b.to_async(rt).iter(|| async {
            let v = their_version.fetch_add(1, Ordering::Relaxed);
            hand.update(&case, theirs.id, alternating_patch(v), v, actor()).await
        });
    });
    group.finish();
}

fn bench_reads(c: &mut Criterion, fx: &Fixture) -> Seeded {
    let Fixture { rt, repo, hand } = fx;
    let big_case = case(999_999);
    let started = Instant::now();
    rt.block_on(async {
        repo.create_many(&big_case, (0..10_000).map(contact).collect(), actor()).await.expect("seed");
        // 100,000 contacts in 10,000 cases; every phone number belongs to two of them.
        for i in 0..10_000 {
            repo.create_many(&case(i), (i * 10..i * 10 + 10).map(contact).collect(), actor())
                .await
                .expect("seed");
        }
    });
    println!("seeded 110,000 contacts in {:.1?}", started.elapsed());

    let all =
        rt.block_on(repo.list(&big_case, PageRequest::first(PageLimit::MAX), actor())).expect("list").items;
    let id = all[123].id;
    let page = PageRequest::after(Cursor::after(*all[250].id.as_uuid()), PageLimit::DEFAULT);

    let mut group = c.benchmark_group("postgres-get");
    group.bench_function("renraku", |b| {
        b.to_async(rt).iter(|| async { repo.get(&big_case, id, actor()).await.expect("get") })
    });
    group.bench_function("baseline", |b| b.to_async(rt).iter(|| async { hand.get(&big_case, id).await }));
    group.finish();

    // Read audit (issue 12): the same get, recording a `viewed` event in its statement.
    let audited = PgContactRepository::builder(repo.pool().clone())
        .schema(repo.schema())
        .rules(rules())
        .read_audit(true)
        .build()
        .expect("options");
    let mut group = c.benchmark_group("postgres-get_read_audit");
    group.bench_function("renraku", |b| {
        b.to_async(rt).iter(|| async { audited.get(&big_case, id, actor()).await.expect("get") })
    });
    group.bench_function("baseline", |b| {
        b.to_async(rt).iter(|| async { repo.get(&big_case, id, actor()).await.expect("get") })
    });
    group.finish();

    let mut group = c.benchmark_group("postgres-list_50_of_10000");
    group.bench_function("renraku", |b| {
        b.to_async(rt).iter(|| async { repo.list(&big_case, page, actor()).await.expect("list") });
    });
    group.bench_function("baseline", |b| b.to_async(rt).iter(|| async { hand.list(&big_case, page).await }));
    group.finish();

    let query = phone(4_242);
    let mut group = c.benchmark_group("postgres-find_phone_in_100000");
    group.bench_function("renraku", |b| {
        b.to_async(rt).iter(|| async { black_box(find_phone(&repo, &query, 2).await) });
    });
    group.bench_function("baseline", |b| {
        b.to_async(rt).iter(|| async {
            let found = hand.find_by_phone(&query).await;
            assert!(found.len() >= 2);
            black_box(found)
        });
    });
    group.finish();
    Seeded { big_case, id, page }
}

/// The concurrency levels of the PostgreSQL benchmarks: one task, the pool's size, and
/// eight tasks per connection.
const TASKS: [usize; 3] = [1, 8, 64];

/// Every operation from 1, 8 and 64 tasks at once on the one pool, renraku beside the
/// hand-written statements at the same concurrency. Each writing task has its own case, and
/// each updating task its own contact, so that versions never conflict.
fn bench_concurrency(c: &mut Criterion, fx: &Fixture, seeded: &Seeded) {
    let Fixture { rt, repo, hand } = fx;
    let Seeded { big_case, id, page } = seeded;
    let (id, page) = (*id, *page);
    static NEXT: AtomicUsize = AtomicUsize::new(1_000_000);
    let next = || NEXT.fetch_add(1, Ordering::Relaxed);
    // Creates with and without the feed's wake-ups (`pg_notify` in every writing
    // transaction, which PostgreSQL serializes at commit); the baseline has none.
    let quiet = PgContactRepository::builder(repo.pool().clone())
        .schema(repo.schema())
        .rules(rules())
        .feed_notifications(false)
        .build()
        .expect("options");
    for (name, repo) in
        [("postgres-tasks-create_one", repo), ("postgres-tasks-create_one_without_wakeups", &quiet)]
    {
        let mut group = c.benchmark_group(name);
        bench_concurrently(
            &mut group,
            rt,
            &TASKS,
            |t, n| {
                calls(n, (repo.clone(), case(500_000 + t)), async move |(repo, case), _| {
                    repo.create(case, contact(next()), actor()).await.expect("create")
                })
            },
            |t, n| {
                calls(n, (hand.clone(), case(600_000 + t)), async move |(hand, case), _| {
                    hand.create(case, contact(next())).await
                })
            },
        );
        group.finish();
    }

    let mut group = c.benchmark_group("postgres-tasks-get");
    bench_concurrently(
        &mut group,
        rt,
        &TASKS,
        |_, n| {
            calls(n, (repo.clone(), big_case.clone()), async move |(repo, case), _| {
                repo.get(case, id, actor()).await.expect("get")
            })
        },
        |_, n| {
            calls(n, (hand.clone(), big_case.clone()), async move |(hand, case), _| hand.get(case, id).await)
        },
    );
    group.finish();

    let mut group = c.benchmark_group("postgres-tasks-list_50_of_10000");
    bench_concurrently(
        &mut group,
        rt,
        &TASKS,
        |_, n| {
            calls(n, (repo.clone(), big_case.clone()), async move |(repo, case), _| {
                repo.list(case, page, actor()).await.expect("list")
            })
        },
        |_, n| {
            calls(n, (hand.clone(), big_case.clone()), async move |(hand, case), _| {
                hand.list(case, page).await
            })
        },
    );
    group.finish();

    let case = case(700_000);
    let tasks = TASKS[TASKS.len() - 1];
    let ours: Vec<ContactId> = (0..tasks)
        .map(|i| rt.block_on(repo.create(&case, contact(i), actor())).expect("create").id)
        .collect();
    let theirs: Vec<ContactId> = (0..tasks).map(|i| rt.block_on(hand.create(&case, contact(i))).id).collect();
    let versions = || Arc::new((0..tasks).map(|_| AtomicU64::new(1)).collect::<Vec<_>>());
    let (our_versions, their_versions) = (versions(), versions());
    let mut group = c.benchmark_group("postgres-tasks-update");
    bench_concurrently(
        &mut group,
        rt,
        &TASKS,
        |t, n| {
            let state = (repo.clone(), case.clone(), ours[t], our_versions.clone());
            calls(n, state, async move |(repo, case, id, versions), _| {
                let v = versions[t].fetch_add(1, Ordering::Relaxed);
                repo.update(case, *id, alternating_patch(v), Some(v), actor()).await.expect("update")
            })
        },
        |t, n| {
            let state = (hand.clone(), case.clone(), theirs[t], their_versions.clone());
            calls(n, state, async move |(hand, case, id, versions), _| {
                let v = versions[t].fetch_add(1, Ordering::Relaxed);
                hand.update(case, *id, alternating_patch(v), v, actor()).await
            })
        },
    );
    group.finish();

    let query = phone(4_242);
    let mut group = c.benchmark_group("postgres-tasks-find_phone_in_100000");
    bench_concurrently(
        &mut group,
        rt,
        &TASKS,
        |_, n| {
            calls(n, (repo.clone(), query.clone()), async |(repo, query), _| find_phone(repo, query, 2).await)
        },
        |_, n| {
            calls(n, (hand.clone(), query.clone()), async |(hand, query), _| {
                let found = hand.find_by_phone(query).await;
                assert!(found.len() >= 2);
                found
            })
        },
    );
    group.finish();
}

fn main() {
    let fx = fixture();
    let mut c = criterion();
    bench_writes(&mut c, &fx);
    let seeded = bench_reads(&mut c, &fx);
    bench_concurrency(&mut c, &fx, &seeded);
    c.final_summary();
    let target = |group, target| Comparison { group, target: Some(target) };
    report(
        "postgres",
        &[
            target("postgres-create_one", 0.9),
            target("postgres-create_1000", 0.8),
            target("postgres-get", 0.9),
            target("postgres-list_50_of_10000", 0.9),
            target("postgres-update", 0.9),
            target("postgres-find_phone_in_100000", 0.9),
        ],
    );
    let target = |group| Comparison { group, target: Some(0.9) };
    concurrency_report(
        "postgres-tasks",
        "tasks",
        &TASKS,
        &[
            target("postgres-tasks-create_one"),
            target("postgres-tasks-create_one_without_wakeups"),
            target("postgres-tasks-get"),
            target("postgres-tasks-list_50_of_10000"),
            target("postgres-tasks-update"),
            target("postgres-tasks-find_phone_in_100000"),
        ],
    );
    if let Some(ratio) = renraku_benches::ratio("postgres-get_read_audit") {
        println!("\nread audit: a get that records its `viewed` event runs at {ratio:.2} of a plain get");
    }
    let bulk = |function| renraku_benches::median_ns("postgres-create_1000", function);
    if let (Some(ours), Some(binary)) = (bulk("renraku"), bulk("binary_copy")) {
        println!(
            "\nbinary COPY of both tables (trial): {:.0} contacts per second ({}), renraku's UNNEST at {:.2} of it",
            1000.0 / (binary / 1e9),
            time(binary),
            binary / ours
        );
    }
    if let Some(ns) = renraku_benches::median_ns("postgres-create_1000", "renraku") {
        let per_second = 1000.0 / (ns / 1e9);
        let met = if per_second >= 100_000.0 { "met" } else { "**missed**" };
        println!(
            "\nbulk create: {per_second:.0} contacts per second (1,000 per call, {}; target 100,000: {met})",
            time(ns)
        );
    }
}
