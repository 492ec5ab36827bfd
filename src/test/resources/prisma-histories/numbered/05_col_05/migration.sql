-- AlterTable
ALTER TABLE "Account" ADD COLUMN "c05" INTEGER;
