-- Which derivation of the search keys (renraku_core::SearchKeys::VERSION) the stored keys
-- have. `migrate()` recomputes the keys of every contact when the code's version is newer,
-- then records it here. Version 1 lowercased; version 2 folds case fully. Like every
-- `_renraku_…` table, it is bookkeeping: `distribute()` leaves it on the Citus coordinator.
CREATE TABLE _renraku_search_keys (
    version integer NOT NULL
);
INSERT INTO _renraku_search_keys (version) VALUES (1);
