//! [`PgContactRepository::migrate`]: renraku's schema, created and upgraded beside the host's.

use renraku_core::{Error, SearchKeys};
use sqlx::postgres::PgPoolOptions;
use tracing::instrument;

use crate::error::{PgError, backend};
use crate::repository::PgContactRepository;
use crate::rows;

impl PgContactRepository {
    /// Creates or upgrades renraku's schema and tables; safe to call at every start.
    ///
    /// The bookkeeping table is `<schema>._renraku_migrations`, apart from the host's
    /// `_sqlx_migrations`. Processes that migrate at the same moment take turns on sqlx's
    /// advisory lock, and all succeed. The migration runs on a connection of its own (with
    /// `search_path` set to the schema) that is closed afterwards, so the pool's connections
    /// keep the host's settings and a failed run cannot leave the lock held.
    ///
    /// When the derivation of the search keys changed ([`SearchKeys::VERSION`]), it then
    /// recomputes the stored keys of every contact, once, whatever the number of processes.
    ///
    /// # Errors
    /// [`Error::Backend`] with [`PgError::Migrate`] or a connection error.
    #[instrument(name = "renraku.migrate", skip_all, fields(schema = %self.schema()))]
    pub async fn migrate(&self) -> Result<(), Error> {
        let schema = format!("\"{}\"", self.schema());
        let mut migrator = sqlx::migrate!("./migrations");
        migrator.dangerous_set_table_name(format!("{schema}._renraku_migrations"));
        migrator.create_schema(schema.clone());
        // A pool of one connection, made from the host pool's own options plus the search
        // path: sqlx's public `run(&pool)` keeps the future `Send` (hosts spawn it), which
        // `run(&mut connection)` does not.
        let options = (*self.pool().connect_options()).clone().options([("search_path", &schema)]);
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(self.statement_timeout())
            .connect_with(options)
            .await
            .map_err(backend)?;
        let result = migrator.run(&pool).await.map_err(|e| Error::from(PgError::Migrate(e)));
        pool.close().await;
        result?;
        self.rekey().await
    }

    /// Recomputes the stored search keys of every contact if they were derived by an older
    /// [`SearchKeys::VERSION`], in one transaction that holds the version row, so that
    /// processes migrating at once do it once. Contacts written meanwhile by this version
    /// of renraku already have new keys; recomputing them changes nothing.
    async fn rekey(&self) -> Result<(), Error> {
        let s = format!("\"{}\"", self.schema());
        let sql = |text: String| sqlx::AssertSqlSafe(text);
        let mut tx = self.begin().await?;
        let lock =
            sqlx::query_scalar(sql(format!("SELECT version FROM {s}._renraku_search_keys FOR UPDATE")));
        let stored: i32 = self.bounded(lock.fetch_one(&mut *tx)).await?;
        let current = i32::try_from(SearchKeys::VERSION).unwrap_or(i32::MAX);
        if stored >= current {
            return Ok(());
        }
        let mut after: Option<(String, uuid::Uuid)> = None;
        loop {
            let page = sqlx::query(self.sql().rekey_page.clone())
                .bind(after.as_ref().map(|(case, _)| case.as_str()))
                .bind(after.as_ref().map(|(_, id)| *id));
            let found = self.bounded(page.fetch_all(&mut *tx)).await?;
            let Some(last) = found.last() else { break };
            let last = rows::contact(last)?;
            after = Some((last.case_id.as_str().to_owned(), *last.id.as_uuid()));
            for row in &found {
                let contact = rows::contact(row)?;
                let keys = SearchKeys::of(&contact);
                let update = sqlx::query(self.sql().rekey_contact.clone())
                    .bind(contact.case_id.as_str())
                    .bind(contact.id.as_uuid())
                    .bind(keys.email)
                    .bind(keys.first_name)
                    .bind(keys.last_name);
                self.bounded(update.execute(&mut *tx)).await?;
            }
        }
        let record =
            sqlx::query(sql(format!("UPDATE {s}._renraku_search_keys SET version = $1"))).bind(current);
        self.bounded(record.execute(&mut *tx)).await?;
        self.bounded(tx.commit()).await
    }
}
