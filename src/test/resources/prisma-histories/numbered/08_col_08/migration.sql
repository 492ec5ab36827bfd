-- AlterTable
ALTER TABLE "Account" ADD COLUMN "c08" INTEGER;
