-- AlterTable
ALTER TABLE "Account" ADD COLUMN "c10" INTEGER;
