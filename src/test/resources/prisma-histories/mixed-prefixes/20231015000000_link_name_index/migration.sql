-- CreateIndex
CREATE INDEX "Link_name_idx" ON "Link"("name");
