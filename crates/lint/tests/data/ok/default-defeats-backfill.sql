ALTER TABLE core.suppliers ADD COLUMN payment_terms text;
UPDATE core.suppliers SET payment_terms = COALESCE(metadata->>'payment_terms', 'Net 30');
ALTER TABLE core.suppliers ALTER COLUMN payment_terms SET DEFAULT 'Net 30';
