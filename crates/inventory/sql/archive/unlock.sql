SELECT pg_advisory_unlock(hashtext('mantis.ledger_archive'))
