-- Inserts the movements of a batch that touches one stock row, in the order
-- given; the posting trigger (migration 004) applies each one to the row,
-- whose lock it takes first: one statement, atomic by itself. Products and warehouses
-- are named by SKU and code: an unknown one leaves product_id or
-- warehouse_id NULL and the NOT NULL constraint refuses the whole batch.
-- A movement whose idempotency key was already posted is skipped by the
-- trigger and is absent from RETURNING.
INSERT INTO core.stock_movement
    (id, product_id, warehouse_id, movement_type, quantity, unit_of_measure, cost_price,
     reference_type, reference_id, reference_number, notes, idempotency_key)
SELECT m.id, p.id, w.id, m.movement_type::core.movement_type, m.quantity,
       coalesce(p.unit_of_measure, 'EA'), m.cost_price, m.reference_type::core.reference_type,
       m.reference_id, m.reference_number, m.notes, m.idempotency_key
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::numeric[],
            $7::text[], $8::uuid[], $9::text[], $10::text[], $11::text[])
     WITH ORDINALITY AS m(id, sku, code, movement_type, quantity, cost_price,
                          reference_type, reference_id, reference_number, notes, idempotency_key, ord)
LEFT JOIN core.products p ON p.sku = m.sku
LEFT JOIN core.warehouses w ON w.code = m.code
ORDER BY m.ord
RETURNING id, seq, cost_price, value_delta
