ALTER TABLE core.suppliers ADD COLUMN payment_terms text DEFAULT 'Net 30';
UPDATE core.suppliers SET payment_terms = COALESCE(payment_terms, metadata->>'payment_terms'); -- expect: default-defeats-backfill
