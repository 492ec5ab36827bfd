-- Add check constraint for daily quota (seed README, "Adding Constraints").
ALTER TABLE users ADD CONSTRAINT chk_daily_quota_positive CHECK (daily_quota > 0);
