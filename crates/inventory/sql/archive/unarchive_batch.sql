-- One unarchive batch (migration 005): every archived movement of products
-- $1..$2 back in the hot table, their carried balances gone. One transaction.
SELECT movements, carried
FROM core.ledger_unarchive_batch($1::uuid, $2::uuid)
