COMMENT ON TABLE characters IS 'characters created by users';
