-- CreateIndex
CREATE UNIQUE INDEX "Account_handle_key" ON "Account"("handle");

-- this one needs 10 and 11 first
CREATE INDEX "Account_c10_c11_idx" ON "Account"("c10", "c11");
