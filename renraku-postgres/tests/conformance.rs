//! The renraku conformance suite, on a real PostgreSQL server (see `renraku_postgres::testkit`).

use renraku_core::Rules;
use renraku_postgres::PgContactRepository;

async fn fresh(rules: Rules) -> PgContactRepository {
    renraku_postgres::testkit::fresh_repository(rules).await
}

renraku_core::conformance_tests!(fresh);
