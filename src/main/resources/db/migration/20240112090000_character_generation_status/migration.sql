-- AlterTable
ALTER TABLE "characters" ADD COLUMN "generation_status" TEXT;
