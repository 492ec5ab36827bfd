-- The first two statements would succeed; the third fails, so the whole file must roll back.
ALTER TABLE accounts ADD COLUMN owner text;
CREATE INDEX accounts_owner ON accounts(owner);
INSERT INTO accounts VALUES (1, 5); -- duplicate key
