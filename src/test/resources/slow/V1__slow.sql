CREATE TABLE slow_marker (id int);
SELECT pg_sleep(120);
