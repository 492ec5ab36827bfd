-- AlterTable
ALTER TABLE "Account" ADD COLUMN "c07" INTEGER;
