ALTER TABLE core.suppliers ADD COLUMN website text;
ALTER TABLE core.suppliers ADD CONSTRAINT suppliers_website_ok CHECK (website ~ '^https?://'); -- expect: constraint-before-backfill
UPDATE core.suppliers SET website = metadata->>'website';
