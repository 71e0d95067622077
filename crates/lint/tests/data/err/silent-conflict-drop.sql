INSERT INTO core.brand (code, name)
SELECT DISTINCT upper(left(brand_name, 4)), brand_name FROM core.products
ON CONFLICT DO NOTHING; -- expect: silent-conflict-drop
UPDATE core.products p SET brand_id = b.id FROM core.brand b WHERE b.name = p.brand_name;
