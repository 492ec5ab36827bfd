-- CreateIndex
CREATE UNIQUE INDEX "Tag_itemId_label_key" ON "Tag"("itemId", "label");
