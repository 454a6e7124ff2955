//! The in-memory [`ContactRepository`] of renraku.
//!
//! [`MemoryContactRepository`] keeps contacts and their audit trail in memory. It passes
//! the same conformance suite as the PostgreSQL backend, so it behaves the same: the same
//! validation, versions, conflicts, pages and audit events. Use it
//!
//! - to embed renraku without a database (data lives as long as the process), and
//! - in the unit tests of a host application, as a real store that needs no setup.
//!
//! It is cheap to clone: clones share one store. Reads run in parallel; writes take turns.
//! The change feed is the order in which the writes took their turns (commit order), and
//! [`wait_for_events`](ContactRepository::wait_for_events) wakes on a `tokio::sync::watch`
//! signal that every recorded event sends (it needs a Tokio runtime with time enabled).
//! With [read audit](MemoryContactRepository::with_read_audit) on, reads are recorded as
//! audit events too.
//!
//! # Embedding
//!
//! ```
//! use std::sync::Arc;
//! use renraku_core::{Actor, CaseId, ContactRepository, NewContact, PageRequest, Rules};
//! use renraku_memory::MemoryContactRepository;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> renraku_core::Result<()> {
//! let rules = Rules::default().with_default_region("DE".parse()?);
//! let repo: Arc<dyn ContactRepository> = Arc::new(MemoryContactRepository::with_rules(rules));
//!
//! let case: CaseId = "42".parse()?;
//! let clerk = Actor::new("user-17")?;
//! let input = NewContact { last_name: Some("Nguyễn".into()), phone: Some("030 1234567".into()), ..NewContact::default() };
//! let contact = repo.create(&case, input, &clerk).await?;
//! assert_eq!(contact.phone_e164.as_deref(), Some("+49301234567"));
//! assert_eq!(repo.list(&case, PageRequest::default(), &clerk).await?.items, [contact]);
//! # Ok(())
//! # }
//! ```
//!
//! # In a host application's unit tests
//!
//! ```
//! use renraku_core::{Actor, CaseId, ContactRepository, NewContact};
//! use renraku_memory::MemoryContactRepository;
//!
//! /// Host code under test: registers the person who reported a case.
//! async fn register_reporter(repo: &dyn ContactRepository, case: &CaseId, email: &str) -> renraku_core::Result<()> {
//!     let input = NewContact { email: Some(email.into()), relationship: Some("reporter".into()), ..NewContact::default() };
//!     repo.create(case, input, &Actor::new("intake-bot")?).await.map(drop)
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> renraku_core::Result<()> {
//! let repo = MemoryContactRepository::new();
//! let case = CaseId::new("7")?;
//! register_reporter(&repo, &case, "reporter@example.org").await?;
//! assert_eq!(repo.case(&case, &Actor::new("test")?).await?.contact_count, 1);
//! assert!(register_reporter(&repo, &case, "not an email").await.is_err());
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::ops::{Bound, RangeBounds};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use renraku_core::plan::{self, ContactChange};
use renraku_core::{
    Actor, AuditEvent, AuditEventId, Case, CaseId, Contact, ContactId, ContactPatch, ContactQuery,
    ContactRef, ContactRepository, Error, FeedCursor, FeedPage, NewContact, Page, PageLimit, PageRequest,
    PersonRecord, Purged, Rules, SearchKey, SearchKeys,
};
use tokio::sync::watch;

/// A [`ContactRepository`] in memory. Clones share the same store.
///
/// See the [crate docs](crate) for examples.
#[derive(Clone, Default)]
pub struct MemoryContactRepository {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    rules: Rules,
    read_audit: bool,
    store: RwLock<Store>,
}

impl MemoryContactRepository {
    /// An empty store with the default [`Rules`] (no default phone region).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store that validates with `rules`.
    #[must_use]
    pub fn with_rules(rules: Rules) -> Self {
        Self { shared: Arc::new(Shared { rules, read_audit: false, store: RwLock::default() }) }
    }

    /// The same store (empty, as a new one is) that also records reads as audit events:
    /// viewing a contact, listing a case, searching across cases. A read then takes the
    /// store's write lock, so reads no longer run in parallel.
    ///
    /// ```
    /// # use renraku_core::{Actor, AuditAction, CaseId, ContactRepository, ContactRepositoryExt, NewContact, PageRequest};
    /// # use renraku_memory::MemoryContactRepository;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> renraku_core::Result<()> {
    /// let repo = MemoryContactRepository::new().with_read_audit(true);
    /// let (case, clerk) = (CaseId::new("7")?, Actor::new("clerk")?);
    /// let input = NewContact { first_name: Some("Ada".into()), ..NewContact::default() };
    /// let ada = repo.create(&case, input, &clerk).await?;
    /// repo.get(&case, ada.id, &clerk).await?;
    /// let actions: Vec<_> = repo.audit_trail_all(&case, &clerk).await?.iter().map(|e| e.action).collect();
    /// assert_eq!(actions, [AuditAction::Created, AuditAction::Viewed]);
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn with_read_audit(self, read_audit: bool) -> Self {
        let rules = self.shared.rules.clone();
        Self { shared: Arc::new(Shared { rules, read_audit, store: RwLock::default() }) }
    }

    /// The rules this store validates with.
    #[must_use]
    pub fn rules(&self) -> &Rules {
        &self.shared.rules
    }

    // A panic while the lock is held cannot leave the store half-changed: every mutation
    // is planned before the lock is taken and applied with operations that do not panic.
    // So a poisoned lock is safe to use, and never turns into a panic here.
    fn read(&self) -> RwLockReadGuard<'_, Store> {
        self.shared.store.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Store> {
        self.shared.store.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for MemoryContactRepository {
    /// Shows sizes, never contents.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let store = self.read();
        f.debug_struct("MemoryContactRepository")
            .field("rules", &self.shared.rules)
            .field("cases", &store.cases.len())
            .field("contacts", &store.locations.len())
            .finish()
    }
}

/// Everything, behind one lock: the cases, and the indexes that search across them.
#[derive(Default)]
struct Store {
    cases: HashMap<CaseId, CaseData>,
    /// Where each contact lives and the keys it is indexed by, for search.
    locations: HashMap<ContactId, (CaseId, SearchKeys)>,
    by_phone: HashMap<String, Ids>,
    by_email: HashMap<String, Ids>,
    /// Case-folded first and last names, for prefix search.
    by_name: BTreeMap<String, Ids>,
    /// Every event, in the order it was recorded: the change feed. An event's position is
    /// its index plus one.
    feed: Vec<AuditEvent>,
    /// Sends the feed's length whenever it grows.
    feed_signal: FeedSignal,
}

struct FeedSignal(watch::Sender<u64>);

impl Default for FeedSignal {
    fn default() -> Self {
        Self(watch::Sender::new(0))
    }
}

#[derive(Default)]
struct CaseData {
    contacts: BTreeMap<ContactId, Contact>,
    /// The case's audit trail: indexes into the feed, in event id order. Each event is
    /// stored once, in the feed; a write appends one index here. Kept after the contacts
    /// are erased: the events hold no personal values.
    audit: Vec<usize>,
    last_changed_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Store {
    fn contact(&self, case_id: &CaseId, id: ContactId) -> Result<&Contact, Error> {
        self.cases
            .get(case_id)
            .and_then(|case| case.contacts.get(&id))
            .ok_or_else(|| Error::contact_not_found(case_id, id))
    }

    fn record(&mut self, event: AuditEvent) {
        let case = case_entry(&mut self.cases, &event.case_id);
        Self::append(case, &mut self.feed, &self.feed_signal, event);
    }

    /// Records `event` in its case's trail and in the feed.
    fn append(case: &mut CaseData, feed: &mut Vec<AuditEvent>, feed_signal: &FeedSignal, event: AuditEvent) {
        // A read (with read audit) is recorded, but it changes nothing.
        if event.action.changes_data() {
            case.last_changed_at = case.last_changed_at.max(Some(event.at));
        }
        // Ids are made before the lock is taken, so a concurrent writer's event can come a
        // little out of id order: it goes where its id belongs, nearly always the end.
        let at = match case.audit.last() {
            Some(&last) if feed[last].id > event.id => case.audit.partition_point(|&i| feed[i].id < event.id),
            _ => case.audit.len(),
        };
        case.audit.insert(at, feed.len());
        feed.push(event);
        // Only a waiter needs the signal; it subscribes under the lock this write holds.
        if feed_signal.0.receiver_count() > 0 {
            feed_signal.0.send_replace(feed.len() as u64);
        }
    }

    /// The events at `indexes` of the feed (a case's audit trail, or part of it).
    fn events<'a>(&'a self, indexes: &'a [usize]) -> impl Iterator<Item = &'a AuditEvent> {
        indexes.iter().map(|&i| &self.feed[i])
    }

    /// Where the feed after `cursor` starts (an index into `feed`), if the cursor is the
    /// start or names an event of the feed.
    fn feed_start(&self, cursor: &FeedCursor) -> Result<usize, Error> {
        if cursor.is_start() {
            return Ok(0);
        }
        let position = usize::try_from(cursor.position()).map_err(|_| Error::UnknownCursor)?;
        match position.checked_sub(1).and_then(|index| self.feed.get(index)) {
            Some(event) if *event.id.as_uuid() == cursor.event() => Ok(position),
            _ => Err(Error::UnknownCursor),
        }
    }

    /// Stores a planned create or update: the contact, its index entries, its event.
    fn put(&mut self, ContactChange { contact, keys, event }: ContactChange) {
        let id = contact.id;
        // A new contact is in no index yet; a changed one is, under its old keys.
        let reindex = match self.locations.get(&id) {
            None => true,
            Some((_, old_keys)) if *old_keys == keys => false,
            Some(_) => {
                self.unindex(id);
                true
            }
        };
        if reindex {
            self.index(id, contact.case_id.clone(), keys);
        }
        let case = case_entry(&mut self.cases, &contact.case_id);
        case.contacts.insert(id, contact);
        Self::append(case, &mut self.feed, &self.feed_signal, event);
    }

    /// Removes a contact and records the event `event` makes of it; `false` if there was no
    /// such contact.
    fn remove_recorded(
        &mut self,
        case_id: &CaseId,
        id: ContactId,
        event: impl FnOnce(&Contact) -> AuditEvent,
    ) -> bool {
        let Ok(contact) = self.contact(case_id, id) else { return false };
        let event = event(contact);
        self.remove(case_id, id);
        self.record(event);
        true
    }

    fn remove(&mut self, case_id: &CaseId, id: ContactId) {
        if let Some(case) = self.cases.get_mut(case_id)
            && case.contacts.remove(&id).is_some()
        {
            self.unindex(id);
        }
    }

    fn index(&mut self, id: ContactId, case_id: CaseId, keys: SearchKeys) {
        if let Some(phone) = &keys.phone {
            add_to(&mut self.by_phone, phone, id);
        }
        if let Some(email) = &keys.email {
            add_to(&mut self.by_email, email, id);
        }
        for name in keys.names() {
            add_to(&mut self.by_name, name, id);
        }
        self.locations.insert(id, (case_id, keys));
    }

    fn unindex(&mut self, id: ContactId) {
        let Some((_, keys)) = self.locations.remove(&id) else { return };
        if let Some(phone) = &keys.phone {
            remove_from(&mut self.by_phone, phone, id);
        }
        if let Some(email) = &keys.email {
            remove_from(&mut self.by_email, email, id);
        }
        for name in keys.names() {
            remove_from(&mut self.by_name, name, id);
        }
    }

    /// The ids matching `key`, in id order, after `after`, at most `n` of them.
    fn matching_ids(&self, key: &SearchKey, after: Bound<ContactId>, n: usize) -> Vec<ContactId> {
        let exact = |index: &HashMap<String, Ids>| {
            index.get(key.as_str()).map(|ids| ids.after(after).take(n).collect())
        };
        match key {
            SearchKey::Phone(_) => exact(&self.by_phone).unwrap_or_default(),
            SearchKey::Email(_) => exact(&self.by_email).unwrap_or_default(),
            SearchKey::NamePrefix(prefix) => {
                let ids: BTreeSet<ContactId> = self
                    .by_name
                    .range::<str, _>((Bound::Included(prefix.as_str()), Bound::Unbounded))
                    .take_while(|(name, _)| name.starts_with(prefix.as_str()))
                    .flat_map(|(_, ids)| ids.after(Bound::Unbounded))
                    .collect();
                ids.range((after, Bound::Unbounded)).take(n).copied().collect()
            }
        }
    }
}

/// The data of a case, made empty if need be. (`entry` would clone the id even when the
/// case exists, as it nearly always does.)
fn case_entry<'a>(cases: &'a mut HashMap<CaseId, CaseData>, case_id: &CaseId) -> &'a mut CaseData {
    if !cases.contains_key(case_id) {
        cases.insert(case_id.clone(), CaseData::default());
    }
    cases.get_mut(case_id).expect("inserted above")
}

/// An index from keys (a phone number, an email address, a name) to the contacts that have
/// them: a hash map for exact search, an ordered map for prefixes.
trait Index {
    fn ids_mut(&mut self, key: &str) -> Option<&mut Ids>;
    fn add(&mut self, key: &str, id: ContactId);
    fn remove_key(&mut self, key: &str);
}

/// The same three methods on both maps (their `get_mut`, `insert` and `remove` are inherent).
macro_rules! impl_index {
    ($($map:ident),*) => {$(
        impl Index for $map<String, Ids> {
            fn ids_mut(&mut self, key: &str) -> Option<&mut Ids> {
                self.get_mut(key)
            }
            fn add(&mut self, key: &str, id: ContactId) {
                self.insert(key.to_owned(), Ids::One(id));
            }
            fn remove_key(&mut self, key: &str) {
                self.remove(key);
            }
        }
    )*};
}
impl_index!(HashMap, BTreeMap);

/// Adds `id` under `key`, copying the key only when it is new to the index.
fn add_to(index: &mut impl Index, key: &str, id: ContactId) {
    match index.ids_mut(key) {
        Some(ids) => ids.insert(id),
        None => index.add(key, id),
    }
}

fn remove_from(index: &mut impl Index, key: &str, id: ContactId) {
    if let Some(ids) = index.ids_mut(key)
        && ids.remove(id)
    {
        index.remove_key(key);
    }
}

/// The contacts under one key of an index. Most keys (an email address, a phone number)
/// belong to one contact, which is kept inline: a set would allocate a node of 11 ids for it.
#[derive(Debug)]
enum Ids {
    One(ContactId),
    Many(BTreeSet<ContactId>),
}

impl Ids {
    fn insert(&mut self, id: ContactId) {
        match self {
            Self::One(one) if *one == id => {}
            Self::One(one) => *self = Self::Many(BTreeSet::from([*one, id])),
            Self::Many(ids) => {
                ids.insert(id);
            }
        }
    }

    /// Removes `id`; `true` if no id is left.
    fn remove(&mut self, id: ContactId) -> bool {
        match self {
            Self::One(one) => *one == id,
            Self::Many(ids) => {
                ids.remove(&id);
                ids.is_empty()
            }
        }
    }

    /// The ids after `after`, in order.
    fn after(&self, after: Bound<ContactId>) -> impl Iterator<Item = ContactId> + '_ {
        let (one, many) = match self {
            Self::One(id) => {
                (Some(*id).filter(|id| RangeBounds::contains(&(after, Bound::Unbounded), id)), None)
            }
            Self::Many(ids) => (None, Some(ids.range((after, Bound::Unbounded)).copied())),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }
}

/// Where a page starts, as a bound on ids (every id type is a UUID underneath).
fn after<K>(page: &PageRequest, from_uuid: fn(uuid::Uuid) -> K) -> Bound<K> {
    page.after.map_or(Bound::Unbounded, |cursor| Bound::Excluded(from_uuid(cursor.position())))
}

#[async_trait]
impl ContactRepository for MemoryContactRepository {
    async fn create(&self, case_id: &CaseId, input: NewContact, actor: &Actor) -> Result<Contact, Error> {
        let change = plan::create(self.rules(), case_id, input, actor)?;
        let contact = change.contact.clone();
        self.write().put(change);
        Ok(contact)
    }

    async fn create_many(
        &self,
        case_id: &CaseId,
        inputs: Vec<NewContact>,
        actor: &Actor,
    ) -> Result<Vec<Contact>, Error> {
        let changes = plan::create_many(self.rules(), case_id, inputs, actor)?;
        let contacts = changes.iter().map(|change| change.contact.clone()).collect();
        let mut store = self.write();
        for change in changes {
            store.put(change);
        }
        Ok(contacts)
    }

    async fn get(&self, case_id: &CaseId, id: ContactId, actor: &Actor) -> Result<Contact, Error> {
        if !self.shared.read_audit {
            return self.read().contact(case_id, id).cloned();
        }
        let mut store = self.write();
        let contact = store.contact(case_id, id)?.clone();
        store.record(plan::viewed(case_id, id, actor));
        Ok(contact)
    }

    async fn list(&self, case_id: &CaseId, page: PageRequest, actor: &Actor) -> Result<Page<Contact>, Error> {
        if self.shared.read_audit {
            self.write().record(plan::listed(case_id, actor));
        }
        let store = self.read();
        let Some(case) = store.cases.get(case_id) else { return Ok(Page::empty()) };
        let items = case
            .contacts
            .range((after(&page, ContactId::from_uuid), Bound::Unbounded))
            .take(page.limit.get() + 1)
            .map(|(_, contact)| contact.clone())
            .collect();
        Ok(Page::from_overfetch(items, page.limit, |c| *c.id.as_uuid()))
    }

    async fn update(
        &self,
        case_id: &CaseId,
        id: ContactId,
        patch: ContactPatch,
        expected: Option<u64>,
        actor: &Actor,
    ) -> Result<Contact, Error> {
        let patch = self.rules().check_patch(patch)?;
        let mut store = self.write();
        let current = store.contact(case_id, id)?;
        match plan::update(current, &patch, expected, actor)? {
            Some(change) => {
                let contact = change.contact.clone();
                store.put(change);
                Ok(contact)
            }
            None => Ok(current.clone()),
        }
    }

    async fn delete(
        &self,
        case_id: &CaseId,
        id: ContactId,
        expected: Option<u64>,
        actor: &Actor,
    ) -> Result<(), Error> {
        let mut store = self.write();
        let event = plan::delete(store.contact(case_id, id)?, expected, actor)?;
        store.remove(case_id, id);
        store.record(event);
        Ok(())
    }

    async fn erase_case(&self, case_id: &CaseId, actor: &Actor) -> Result<u64, Error> {
        let mut store = self.write();
        let ids: Vec<ContactId> =
            store.cases.get(case_id).map(|case| case.contacts.keys().copied().collect()).unwrap_or_default();
        for id in &ids {
            store.remove(case_id, *id);
        }
        let erased = ids.len() as u64;
        if let Some(event) = plan::erase(case_id, erased, actor) {
            store.record(event);
        }
        Ok(erased)
    }

    async fn case(&self, case_id: &CaseId, _actor: &Actor) -> Result<Case, Error> {
        let store = self.read();
        let data = store.cases.get(case_id).filter(|case| !case.contacts.is_empty());
        let (Some(data), Some(last_changed_at)) = (data, data.and_then(|case| case.last_changed_at)) else {
            return Err(Error::case_not_found(case_id));
        };
        let first_created_at = data.contacts.values().map(|c| c.created_at).min().unwrap_or(last_changed_at);
        Ok(Case {
            id: case_id.clone(),
            contact_count: data.contacts.len() as u64,
            first_created_at,
            last_changed_at,
        })
    }

    async fn audit_trail(
        &self,
        case_id: &CaseId,
        page: PageRequest,
        _actor: &Actor,
    ) -> Result<Page<AuditEvent>, Error> {
        let store = self.read();
        let Some(case) = store.cases.get(case_id) else { return Ok(Page::empty()) };
        let start = page.after.map_or(0, |cursor| {
            let after = AuditEventId::from_uuid(cursor.position());
            case.audit.partition_point(|&i| store.feed[i].id <= after)
        });
        let items = store.events(&case.audit[start..]).take(page.limit.get() + 1).cloned().collect();
        Ok(Page::from_overfetch(items, page.limit, |e| *e.id.as_uuid()))
    }

    async fn find(
        &self,
        query: ContactQuery,
        page: PageRequest,
        actor: &Actor,
    ) -> Result<Page<Contact>, Error> {
        let key = self.rules().check_query(query)?;
        if self.shared.read_audit {
            self.write().record(plan::searched(&key, actor));
        }
        let store = self.read();
        let items = store
            .matching_ids(&key, after(&page, ContactId::from_uuid), page.limit.get() + 1)
            .into_iter()
            .filter_map(|id| store.locations.get(&id).and_then(|(case, _)| store.contact(case, id).ok()))
            .cloned()
            .collect();
        Ok(Page::from_overfetch(items, page.limit, |c| *c.id.as_uuid()))
    }

    async fn purge(
        &self,
        changed_before: DateTime<Utc>,
        limit: PageLimit,
        actor: &Actor,
    ) -> Result<Purged, Error> {
        let mut store = self.write();
        // Oldest first, like the PostgreSQL backend, so a bounded call makes steady progress.
        let mut due: Vec<(DateTime<Utc>, CaseId, ContactId)> = store
            .cases
            .iter()
            .flat_map(|(case_id, case)| {
                case.contacts.values().map(move |c| (c.updated_at, case_id.clone(), c.id))
            })
            .filter(|(updated_at, _, _)| *updated_at < changed_before)
            .collect();
        due.sort_unstable();
        let more = due.len() > limit.get();
        due.truncate(limit.get());
        for (_, case_id, id) in &due {
            store.remove_recorded(case_id, *id, |contact| plan::purged(contact, actor));
        }
        Ok(Purged { erased: due.len() as u64, more })
    }

    async fn export_person(
        &self,
        query: ContactQuery,
        page: PageRequest,
        actor: &Actor,
    ) -> Result<Page<PersonRecord>, Error> {
        let key = self.rules().check_query(query)?;
        let mut store = self.write();
        let ids = store.matching_ids(&key, after(&page, ContactId::from_uuid), page.limit.get() + 1);
        let mut records = Vec::with_capacity(ids.len());
        for id in ids {
            let Some((case_id, _)) = store.locations.get(&id) else { continue };
            let case_id = case_id.clone();
            let contact = store.contact(&case_id, id)?.clone();
            let trail = store
                .events(&store.cases[&case_id].audit)
                .filter(|e| e.contact_id == Some(id))
                .cloned()
                .collect();
            records.push(PersonRecord { contact, trail });
        }
        let page = Page::from_overfetch(records, page.limit, |r| *r.contact.id.as_uuid());
        for record in &page.items {
            store.record(plan::exported(&record.contact, actor));
        }
        Ok(page)
    }

    async fn erase_person(&self, selection: Vec<ContactRef>, actor: &Actor) -> Result<u64, Error> {
        let mut store = self.write();
        let mut erased = 0;
        for ContactRef { case_id, id } in selection {
            if store.remove_recorded(&case_id, id, |contact| plan::erased(contact, actor)) {
                erased += 1;
            }
        }
        Ok(erased)
    }

    async fn feed(&self, after: &FeedCursor, limit: PageLimit, _actor: &Actor) -> Result<FeedPage, Error> {
        let store = self.read();
        let start = store.feed_start(after)?;
        let events = store.feed[start..]
            .iter()
            .take(limit.get() + 1)
            .zip(start as u64 + 1..)
            .map(|(event, position)| (position, event.clone()))
            .collect();
        Ok(FeedPage::from_overfetch(events, *after, limit))
    }

    async fn wait_for_events(
        &self,
        after: &FeedCursor,
        timeout: Duration,
        _actor: &Actor,
    ) -> Result<bool, Error> {
        // Subscribed under the same lock as the check: no event can slip in between.
        let mut signal = {
            let store = self.read();
            let known = usize::try_from(after.position()).unwrap_or(usize::MAX);
            if store.feed.len() > known {
                return Ok(true);
            }
            store.feed_signal.0.subscribe()
        };
        Ok(matches!(tokio::time::timeout(timeout, signal.changed()).await, Ok(Ok(()))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use renraku_core::ContactRepositoryExt as _;

    /// A writer that planned its event first can take the lock last: the case's trail still
    /// lists events in id order, and pages through them by id, while the feed keeps the order
    /// of the writes.
    #[tokio::test]
    async fn a_trail_stays_in_id_order_when_events_are_recorded_out_of_order() {
        let repo = MemoryContactRepository::new();
        let (case, actor) = (CaseId::new("case-1").expect("id"), Actor::new("clerk").expect("actor"));
        let events: Vec<AuditEvent> = (0..4).map(|_| plan::listed(&case, &actor)).collect();
        assert!(events.windows(2).all(|pair| pair[0].id < pair[1].id), "ids sort by time");
        for i in [1, 3, 0, 2] {
            repo.write().record(events[i].clone());
        }
        let ids = |events: &[AuditEvent]| events.iter().map(|e| e.id).collect::<Vec<_>>();
        let trail = repo.audit_trail_all(&case, &actor).await.expect("trail");
        assert_eq!(ids(&trail), ids(&events));
        let limit = PageLimit::new(2).expect("limit");
        let first = repo.audit_trail(&case, PageRequest::first(limit), &actor).await.expect("page");
        let next = first.next.expect("a second page");
        let second = repo.audit_trail(&case, PageRequest::after(next, limit), &actor).await.expect("page");
        assert_eq!((ids(&first.items), ids(&second.items)), (ids(&events[..2]), ids(&events[2..])));
        let feed = repo.feed(&FeedCursor::START, PageLimit::DEFAULT, &actor).await.expect("feed");
        let order: Vec<AuditEventId> = feed.events.iter().map(|e| e.id).collect();
        assert_eq!(order, [1, 3, 0, 2].map(|i| events[i].id));
    }
}
