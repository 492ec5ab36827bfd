-- AlterTable
ALTER TABLE "Account" ADD COLUMN "c11" INTEGER;
