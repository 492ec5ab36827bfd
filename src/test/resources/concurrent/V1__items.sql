CREATE TABLE items (id bigint PRIMARY KEY, val int NOT NULL);
INSERT INTO items SELECT g, g % 1000 FROM generate_series(1, 50000) g;
