SELECT sku, id FROM core.products WHERE sku = ANY($1::text[])
