-- Rollback of the seed's indexes, dropped without blocking writes (pgshift runs this outside a transaction).
DROP INDEX CONCURRENTLY IF EXISTS idx_characters_style_type;
DROP INDEX CONCURRENTLY IF EXISTS idx_characters_user_id;
DROP INDEX CONCURRENTLY IF EXISTS idx_users_email;
