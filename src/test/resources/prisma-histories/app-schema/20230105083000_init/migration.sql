-- CreateEnum
CREATE TYPE "Status" AS ENUM ('DRAFT', 'LIVE');

-- CreateTable
CREATE TABLE "Item" (
    "id" BIGSERIAL NOT NULL,
    "name" VARCHAR(40) NOT NULL,
    "status" "Status" NOT NULL DEFAULT 'DRAFT',
    CONSTRAINT "Item_pkey" PRIMARY KEY ("id")
);
