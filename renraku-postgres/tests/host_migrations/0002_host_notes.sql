-- A second host migration, so the host's bookkeeping holds versions renraku also uses (1)
-- and versions it does not (2).
CREATE TABLE host_notes (
    case_id bigint NOT NULL REFERENCES host_cases (id),
    body text NOT NULL
);
