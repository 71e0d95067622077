-- mantis-lint: allow drop-cascade -- expect: bad-suppression
DROP TYPE core.movement_type CASCADE;
-- mantis-lint: allow no-such-rule: because I said so -- expect: bad-suppression
SELECT 1;
