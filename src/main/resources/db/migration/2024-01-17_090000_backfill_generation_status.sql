-- Migrate existing data now that characters have a generation_status (seed README, "Data Migration").
UPDATE characters SET generation_status = 'COMPLETED' WHERE generation_status IS NULL;
