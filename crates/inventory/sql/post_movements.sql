-- Posts a batch of movements in the order given, in one statement: the
-- ledger's rules applied set-based by core.post_movements (migration 005):
-- the stock rows created and locked in (product, warehouse) order, the lines
-- folded in order, each stock row written once. An unknown SKU or code is
-- refused (foreign_key_violation) and nothing is posted. A movement whose
-- idempotency key was already posted is skipped and absent from the result.
SELECT id, seq, cost_price, value_delta
FROM core.post_movements($1::uuid[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::numeric[],
                         $7::text[], $8::uuid[], $9::text[], $10::text[], $11::text[])
