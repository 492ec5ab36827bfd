-- Rollback of 20240110120000_init: the platform's tables, children first.
DROP TABLE IF EXISTS "characters";
DROP TABLE IF EXISTS "users";
