INSERT INTO core.brand (code, name) VALUES ('ACME', 'Acme') ON CONFLICT DO NOTHING;
INSERT INTO core.brand (code, name)
SELECT DISTINCT upper(left(brand_name, 4)), brand_name FROM core.products
ON CONFLICT (code) DO UPDATE SET name = excluded.name;
UPDATE core.products p SET brand_id = b.id FROM core.brand b WHERE b.name = p.brand_name;
