//! The renraku conformance suite, on the in-memory store.

use renraku_core::testkit::Setup;
use renraku_memory::MemoryContactRepository;

async fn fresh(setup: Setup) -> MemoryContactRepository {
    MemoryContactRepository::with_rules(setup.rules).with_read_audit(setup.read_audit)
}

renraku_core::conformance_tests!(fresh);
