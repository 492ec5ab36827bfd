-- AlterTable
ALTER TABLE "Link" ADD COLUMN "expiresAt" TIMESTAMP(3);
