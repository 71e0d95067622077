SELECT code, id FROM core.warehouses WHERE code = ANY($1::text[])
