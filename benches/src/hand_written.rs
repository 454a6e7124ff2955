//! The hand-written writes the PostgreSQL and Citus benchmarks compare renraku with: plain
//! statements a host would write by hand on the same tables, one per row, binding what
//! renraku-core planned (so the comparison measures the storage path, not validation).

use renraku_core::plan::ContactChange;
use renraku_core::{AuditEvent, CaseId, ContactId};
use renraku_postgres::PgContactRepository;
use renraku_postgres::testkit::TestServer;
use sqlx::{AssertSqlSafe, PgPool, Postgres, Transaction};

/// A repository migrated in a new schema on `server` (a pool of 8, the benchmarks' rules),
/// and the hand-written statements on the same tables and pool.
pub async fn migrated(server: &TestServer) -> (PgContactRepository, HandWritten) {
    let pool = server.pool(8).await;
    let schema = format!("bench_{}", uuid::Uuid::now_v7().simple());
    let repo = PgContactRepository::builder(pool.clone())
        .schema(&schema)
        .rules(crate::rules())
        .build()
        .expect("options");
    repo.migrate().await.expect("migrate");
    (repo, HandWritten::new(pool, schema))
}

/// The hand-written statements on the tables of one schema.
#[derive(Debug, Clone)]
pub struct HandWritten {
    /// The pool the statements run on.
    pub pool: PgPool,
    schema: String,
}

impl HandWritten {
    /// The statements on `schema`'s tables, run on `pool`.
    #[must_use]
    pub fn new(pool: PgPool, schema: impl Into<String>) -> Self {
        Self { pool, schema: schema.into() }
    }

    /// `text` with `{s}` replaced by the quoted schema.
    #[must_use]
    pub fn sql(&self, text: &str) -> AssertSqlSafe<String> {
        AssertSqlSafe(text.replace("{s}", &format!("\"{}\"", self.schema)))
    }

    /// The schema's name, unquoted.
    #[must_use]
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// Inserts the contact row of a planned create (not its event).
    pub async fn insert_contact(&self, tx: &mut Transaction<'static, Postgres>, change: &ContactChange) {
        let (c, keys) = (&change.contact, &change.keys);
        sqlx::query(self.sql(
            "INSERT INTO {s}.contacts (case_id, id, title, first_name, last_name, phone, phone_e164, email,
                address, relationship, email_key, first_name_key, last_name_key, version, created_at,
                updated_at, created_by, updated_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
        ))
        .bind(c.case_id.as_str())
        .bind(c.id.as_uuid())
        .bind(&c.title)
        .bind(&c.first_name)
        .bind(&c.last_name)
        .bind(&c.phone)
        .bind(&c.phone_e164)
        .bind(&c.email)
        .bind(&c.address)
        .bind(&c.relationship)
        .bind(&keys.email)
        .bind(&keys.first_name)
        .bind(&keys.last_name)
        .bind(1_i64)
        .bind(c.created_at)
        .bind(c.updated_at)
        .bind(c.created_by.as_str())
        .bind(c.updated_by.as_str())
        .execute(&mut **tx)
        .await
        .expect("insert contact");
    }

    /// Inserts one audit event.
    pub async fn insert_event(&self, tx: &mut Transaction<'static, Postgres>, e: &AuditEvent) {
        let fields: Vec<&str> = e.changed_fields.iter().map(|f| f.name()).collect();
        sqlx::query(self.sql(
            "INSERT INTO {s}.audit_events (case_id, id, contact_id, action, actor, changed_fields, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        ))
        .bind(e.case_id.as_str())
        .bind(e.id.as_uuid())
        .bind(e.contact_id.map(|id| *id.as_uuid()))
        .bind(e.action.as_str())
        .bind(e.actor.as_str())
        .bind(fields)
        .bind(e.at)
        .execute(&mut **tx)
        .await
        .expect("insert event");
    }

    /// Writes a planned update of the contact at version `expected` (not its event), and
    /// checks that it found the row.
    pub async fn update_contact(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        case: &CaseId,
        id: ContactId,
        expected: u64,
        change: &ContactChange,
    ) {
        let (c, keys) = (&change.contact, &change.keys);
        let updated = sqlx::query(self.sql(
            "UPDATE {s}.contacts SET title = $4, first_name = $5, last_name = $6, phone = $7, phone_e164 = $8,
                email = $9, address = $10, relationship = $11, email_key = $12, first_name_key = $13,
                last_name_key = $14, version = $15, updated_at = $16, updated_by = $17
             WHERE case_id = $1 AND id = $2 AND version = $3",
        ))
        .bind(case.as_str())
        .bind(id.as_uuid())
        .bind(i64::try_from(expected).expect("a version fits i64"))
        .bind(&c.title)
        .bind(&c.first_name)
        .bind(&c.last_name)
        .bind(&c.phone)
        .bind(&c.phone_e164)
        .bind(&c.email)
        .bind(&c.address)
        .bind(&c.relationship)
        .bind(&keys.email)
        .bind(&keys.first_name)
        .bind(&keys.last_name)
        .bind(i64::try_from(c.version).expect("a version fits i64"))
        .bind(c.updated_at)
        .bind(c.updated_by.as_str())
        .execute(&mut **tx)
        .await
        .expect("update");
        assert_eq!(updated.rows_affected(), 1, "the contact at the expected version");
    }
}
