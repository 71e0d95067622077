CREATE TABLE core.brand (id uuid PRIMARY KEY, code text);
CREATE INDEX brand_code ON core.brand (code);
