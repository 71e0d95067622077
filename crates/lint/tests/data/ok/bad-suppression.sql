-- mantis-lint: allow drop-cascade: the type is ours and nothing outside this migration uses it
DROP TYPE core.movement_type CASCADE;
