-- Whether a product SKU ($1) and a warehouse code ($2) exist (NULL: not asked).
SELECT $1::text IS NULL OR EXISTS (SELECT FROM core.products WHERE sku = $1) AS product_known,
       $2::text IS NULL OR EXISTS (SELECT FROM core.warehouses WHERE code = $2) AS warehouse_known
