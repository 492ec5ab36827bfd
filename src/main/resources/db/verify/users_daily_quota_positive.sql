-- pgshift:after 20240110120000.1
-- No user may have a daily quota of zero or less (the platform's chk_daily_quota_positive).
SELECT id, email, daily_quota FROM users WHERE daily_quota <= 0;
