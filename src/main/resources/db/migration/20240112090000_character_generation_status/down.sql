-- Rollback of 20240112090000_character_generation_status.
ALTER TABLE "characters" DROP COLUMN IF EXISTS "generation_status";
