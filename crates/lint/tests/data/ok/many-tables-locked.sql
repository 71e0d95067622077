CREATE TABLE core.brand (id uuid PRIMARY KEY);
ALTER TABLE core.brand ADD COLUMN note text;
ALTER TABLE core.products ADD COLUMN note text;
