-- Moves every product of brand $1 to brand $2; the caller then deletes $1.
UPDATE core.products SET brand_id = $2, updated_at = now() WHERE brand_id = $1
