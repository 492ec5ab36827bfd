-- Holds the run lock for a while, then builds an index concurrently: a second run that waited inside
-- pg_advisory_lock would hold a snapshot that this build must wait for.
SELECT pg_sleep(4);
CREATE INDEX CONCURRENTLY items_val_idx ON items (val);
