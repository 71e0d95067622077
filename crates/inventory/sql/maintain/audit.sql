-- The data-quality counts of the seed's monthly audit.
SELECT
    (SELECT count(*) FROM core.products WHERE brand_id IS NULL AND is_active) AS products_without_brand,
    (SELECT count(*) FROM core.stock_on_hand WHERE quantity > 0 AND cost_price IS NULL) AS stock_without_cost,
    (SELECT count(*) FROM core.supplier_contact_issue) AS contact_issues,
    (SELECT count(*) FROM core.suppliers
     WHERE is_active AND contact_email IS NULL AND contact_phone IS NULL) AS suppliers_without_contact,
    (SELECT count(*) FROM core.product_brand_issue) AS dangling_legacy_brand_ids,
    (SELECT count(*) FROM core.stock_on_hand s JOIN core.products p ON p.id = s.product_id
     WHERE p.is_active AND s.quantity < p.min_stock_level) AS low_stock_rows,
    (SELECT coalesce(sum(total_value), 0) FROM core.stock_on_hand) AS stock_value
