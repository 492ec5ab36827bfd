-- AlterTable
ALTER TABLE "Post" ALTER COLUMN "title" SET DATA TYPE VARCHAR(191);

-- CreateIndex
CREATE INDEX "Post_title_idx" ON "Post"("title");
