ALTER TABLE core.suppliers ADD COLUMN website text;
UPDATE core.suppliers SET website = metadata->>'website' WHERE metadata->>'website' ~ '^https?://';
ALTER TABLE core.suppliers ADD CONSTRAINT suppliers_website_ok CHECK (website ~ '^https?://') NOT VALID;
