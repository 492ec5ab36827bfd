-- pgshift:after 20240110120000.1
-- Every character belongs to an existing user.
SELECT c.id, c.user_id FROM characters c LEFT JOIN users u ON u.id = c.user_id WHERE u.id IS NULL;
