-- pgshift rollback
ALTER TABLE "User" DROP COLUMN "bio";
