DROP INDEX "Account_c10_c11_idx";
DROP INDEX "Account_handle_key";
