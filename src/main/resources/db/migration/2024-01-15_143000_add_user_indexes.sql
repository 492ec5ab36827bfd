-- Add indexes for faster lookups, built without blocking writes (seed README, "Adding Indexes").
-- pgshift runs this file outside a transaction, one statement at a time.
-- idx_users_email duplicates users_email_key for lookups by the seed's own name; kept as the seed has it.
CREATE INDEX CONCURRENTLY idx_users_email ON users(email);
CREATE INDEX CONCURRENTLY idx_characters_user_id ON characters(user_id);
CREATE INDEX CONCURRENTLY idx_characters_style_type ON characters(style_type);
