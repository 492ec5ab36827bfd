-- AlterTable
ALTER TABLE "Account" ADD COLUMN "c02" INTEGER;
