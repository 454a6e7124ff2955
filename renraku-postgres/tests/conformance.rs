//! The renraku conformance suite, on a real PostgreSQL server (see `renraku_postgres::testkit`).

use renraku_core::testkit::Setup;
use renraku_postgres::PgContactRepository;

async fn fresh(setup: Setup) -> PgContactRepository {
    renraku_postgres::testkit::fresh_repository_with(setup.rules, |b| b.read_audit(setup.read_audit)).await
}

renraku_core::conformance_tests!(fresh);
