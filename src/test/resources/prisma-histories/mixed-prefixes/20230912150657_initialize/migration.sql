-- CreateTable
CREATE TABLE "Link" (
    "id" TEXT NOT NULL,
    CONSTRAINT "Link_pkey" PRIMARY KEY ("id")
);
