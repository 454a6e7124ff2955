-- A host application's own migration, for the coexistence tests.
CREATE TABLE host_cases (
    id bigint PRIMARY KEY,
    opened_at timestamptz NOT NULL DEFAULT now()
);
