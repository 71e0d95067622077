-- Inserts a batch of movements in the order given; the posting trigger
-- (migration 004) applies each one to its stock row. A movement whose
-- idempotency key was already posted is skipped by the trigger and is absent
-- from RETURNING.
INSERT INTO core.stock_movement
    (id, product_id, warehouse_id, movement_type, quantity, unit_of_measure, unit_cost,
     reference_type, reference_id, reference_number, notes, idempotency_key, reverses_id)
SELECT m.id, m.product_id, m.warehouse_id, m.movement_type::core.movement_type, m.quantity,
       p.unit_of_measure, m.unit_cost, m.reference_type::core.reference_type, m.reference_id,
       m.reference_number, m.notes, m.idempotency_key, m.reverses_id
FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::numeric[], $6::numeric[],
            $7::text[], $8::uuid[], $9::text[], $10::text[], $11::text[], $12::uuid[])
     WITH ORDINALITY AS m(id, product_id, warehouse_id, movement_type, quantity, unit_cost,
                          reference_type, reference_id, reference_number, notes, idempotency_key,
                          reverses_id, ord)
JOIN core.products p ON p.id = m.product_id
ORDER BY m.ord
RETURNING id, seq, unit_cost, value_delta
