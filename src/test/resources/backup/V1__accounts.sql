CREATE TABLE accounts (id bigint PRIMARY KEY, owner text NOT NULL, balance int NOT NULL);
INSERT INTO accounts SELECT g, 'owner ' || g, g * 10 FROM generate_series(1, 1000) g;
