-- Rollback of the daily quota check.
ALTER TABLE users DROP CONSTRAINT IF EXISTS chk_daily_quota_positive;
