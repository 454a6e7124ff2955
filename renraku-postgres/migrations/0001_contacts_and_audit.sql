-- renraku's tables. Names are unqualified: `migrate()` runs this with `search_path` set to
-- the repository's schema, so the same migration serves any schema.
--
-- Every table is keyed by `case_id` first, and every query but the cross-case search
-- filters by it, so the tables can be distributed by `case_id` (Citus) unchanged.
-- `COLLATE "C"` on ids and search keys: byte order, the same as Rust's `str` order,
-- whatever the database's locale, and plain btree indexes serve prefix ranges.

CREATE TABLE contacts (
    case_id        text COLLATE "C" NOT NULL,
    id             uuid NOT NULL,
    title          text,
    first_name     text,
    last_name      text,
    phone          text,
    phone_e164     text COLLATE "C",
    email          text,
    address        text,
    relationship   text,
    -- Case-folded copies for case-insensitive search, computed by renraku-core.
    email_key      text COLLATE "C",
    first_name_key text COLLATE "C",
    last_name_key  text COLLATE "C",
    version        bigint NOT NULL CHECK (version >= 1),
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    created_by     text NOT NULL,
    updated_by     text NOT NULL,
    PRIMARY KEY (case_id, id)
);

-- Cross-case search; `id` last so each key's matches come out in page order.
CREATE INDEX contacts_phone_e164 ON contacts (phone_e164, id) WHERE phone_e164 IS NOT NULL;
CREATE INDEX contacts_email_key ON contacts (email_key, id) WHERE email_key IS NOT NULL;
CREATE INDEX contacts_first_name_key ON contacts (first_name_key) WHERE first_name_key IS NOT NULL;
CREATE INDEX contacts_last_name_key ON contacts (last_name_key) WHERE last_name_key IS NOT NULL;

CREATE TABLE audit_events (
    case_id        text COLLATE "C" NOT NULL,
    id             uuid NOT NULL,
    contact_id     uuid,
    action         text NOT NULL CHECK (action IN ('created', 'updated', 'deleted', 'case_erased')),
    actor          text NOT NULL,
    changed_fields text[] NOT NULL,
    at             timestamptz NOT NULL,
    PRIMARY KEY (case_id, id)
);
