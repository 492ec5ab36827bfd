-- pgshift:after 20240117090000
-- After the backfill, every character has a generation_status.
SELECT id, name FROM characters WHERE generation_status IS NULL;
