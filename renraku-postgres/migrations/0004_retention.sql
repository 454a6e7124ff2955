-- Retention: `purge()` looks for the contacts that did not change since a cutoff, oldest
-- first.
CREATE INDEX contacts_updated_at ON contacts (updated_at);
