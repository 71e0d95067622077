ALTER TABLE core.products ADD COLUMN note text;
ALTER TABLE core.products ADD COLUMN brand_id uuid REFERENCES; -- expect: syntax-error
