-- AlterTable
ALTER TABLE "Account" ADD COLUMN "c03" INTEGER;
