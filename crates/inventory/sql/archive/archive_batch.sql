-- One archive batch (migration 005): the movements of products $2..$3
-- created before the start of day $1 (the server's time zone) move to the
-- archive, each stock row keeping one carried balance. One transaction.
SELECT stock_rows, movements, carried, kept
FROM core.ledger_archive_batch($1::date::timestamptz, $2::uuid, $3::uuid)
