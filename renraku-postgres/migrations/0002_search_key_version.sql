-- Which derivation of the search keys (renraku_core::SearchKeys::VERSION) the stored keys
-- have. `migrate()` recomputes the keys of every contact when the code's version is newer,
-- then records it here. Version 1 lowercased; version 2 folds case fully.
CREATE TABLE search_key_version (
    version integer NOT NULL
);
INSERT INTO search_key_version (version) VALUES (1);
