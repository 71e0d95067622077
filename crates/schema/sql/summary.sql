-- What migration 003 produced, in one row: the seed's health check and more.
-- Coverage follows the seed's definitions: brand coverage over all products,
-- cost coverage over stock rows with quantity > 0.
SELECT
    (SELECT count(*) FROM core.brand)                                         AS brands,
    (SELECT count(*) FROM core.products)                                      AS products,
    (SELECT count(brand_id) FROM core.products)                               AS products_with_brand,
    (SELECT count(*) FROM core.products WHERE btrim(brand_from_supplier) <> '') AS products_with_brand_text,
    (SELECT count(*) FROM core.suppliers)                                     AS suppliers,
    (SELECT count(contact_email) FROM core.suppliers)                         AS suppliers_with_email,
    (SELECT count(*) FROM core.supplier_contact_issue)                        AS contact_issues,
    (SELECT count(*) FROM core.product_brand_issue)                           AS brand_id_issues,
    (SELECT count(*) FROM core.stock_on_hand WHERE quantity > 0)              AS stock_rows_in_stock,
    (SELECT count(cost_price) FROM core.stock_on_hand WHERE quantity > 0)     AS stock_rows_costed,
    (SELECT count(*) FROM core.stock_movement)                                AS movements,
    (SELECT coalesce(sum(total_value), 0) FROM core.stock_on_hand)            AS stock_value,
    (SELECT count(*) FROM core.mv_inventory_valuation)                        AS mv_inventory_valuation_rows,
    (SELECT count(*) FROM core.mv_product_stock_summary)                      AS mv_product_stock_summary_rows,
    (SELECT count(*) FROM core.mv_low_stock_alerts)                           AS mv_low_stock_alerts_rows
