//! The renraku conformance suite, on the in-memory store.

use renraku_core::Rules;
use renraku_memory::MemoryContactRepository;

async fn fresh(rules: Rules) -> MemoryContactRepository {
    MemoryContactRepository::with_rules(rules)
}

renraku_core::conformance_tests!(fresh);
