-- AlterTable
ALTER TABLE "Link" ADD COLUMN "name" TEXT;
