-- AlterTable
ALTER TABLE "Account" ADD COLUMN "c09" INTEGER;
