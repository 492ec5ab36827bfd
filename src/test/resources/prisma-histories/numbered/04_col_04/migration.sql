-- AlterTable
ALTER TABLE "Account" ADD COLUMN "c04" INTEGER;
