-- AlterTable
ALTER TABLE "Account" ADD COLUMN "c06" INTEGER;
