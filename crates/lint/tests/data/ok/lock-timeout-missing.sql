SET lock_timeout = '5s';
ALTER TABLE core.products ADD COLUMN note text;
