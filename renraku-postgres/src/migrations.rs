//! [`PgContactRepository::migrate`]: renraku's schema, created and upgraded beside the host's.

use renraku_core::Error;
use sqlx::postgres::PgPoolOptions;
use tracing::instrument;

use crate::error::{PgError, backend};
use crate::repository::PgContactRepository;

impl PgContactRepository {
    /// Creates or upgrades renraku's schema and tables; safe to call at every start.
    ///
    /// The bookkeeping table is `<schema>._renraku_migrations`, apart from the host's
    /// `_sqlx_migrations`. Processes that migrate at the same moment take turns on sqlx's
    /// advisory lock, and all succeed. The migration runs on a connection of its own (with
    /// `search_path` set to the schema) that is closed afterwards, so the pool's connections
    /// keep the host's settings and a failed run cannot leave the lock held.
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
        result
    }
}
