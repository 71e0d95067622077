-- One archive or unarchive run at a time per database (session lock).
SELECT pg_try_advisory_lock(hashtext('mantis.ledger_archive'))
