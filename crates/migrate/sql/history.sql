-- Bookkeeping of mantis-migrate. Created under the migration lock, so the
-- IF NOT EXISTS forms never race each other.
CREATE SCHEMA IF NOT EXISTS mantis;

COMMENT ON SCHEMA mantis IS 'Migration history kept by mantis; do not edit by hand.';

-- One row per applied migration. Written in the same transaction as the
-- migration itself, so a row exists if and only if the migration committed.
CREATE TABLE IF NOT EXISTS mantis.schema_migrations (
    version      bigint      PRIMARY KEY CHECK (version > 0),
    name         text        NOT NULL,
    checksum     text        NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
    applied_at   timestamptz NOT NULL DEFAULT now(),
    applied_by   text        NOT NULL DEFAULT session_user,
    duration_ms  bigint      NOT NULL CHECK (duration_ms >= 0),
    tool_version text        NOT NULL,
    mode         text        NOT NULL CHECK (mode IN ('transaction', 'no-transaction', 'baseline')),
    backup       text
);

-- A no-transaction migration in flight: statements run one by one and commit
-- on their own, so progress is recorded after each one. A row left here means
-- the run stopped half-way; the next run of the same direction resumes it.
CREATE TABLE IF NOT EXISTS mantis.migration_progress (
    version          bigint      PRIMARY KEY,
    name             text        NOT NULL,
    checksum         text        NOT NULL,
    direction        text        NOT NULL CHECK (direction IN ('up', 'down')),
    statements_total integer     NOT NULL CHECK (statements_total >= 0),
    statements_done  integer     NOT NULL CHECK (statements_done BETWEEN 0 AND statements_total),
    started_at       timestamptz NOT NULL DEFAULT now(),
    started_by       text        NOT NULL DEFAULT session_user,
    updated_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_error       text
);

-- A batched statement (docs/migrations.md) in flight: the last key of the last
-- committed batch, and the rows done; for order=physical, the next page of the
-- page walk and the page it ends before (set when it starts). Added to
-- markers of older versions too.
ALTER TABLE mantis.migration_progress
    ADD COLUMN IF NOT EXISTS batch_after    text,
    ADD COLUMN IF NOT EXISTS batch_rows     bigint NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS batch_page     bigint,
    ADD COLUMN IF NOT EXISTS batch_page_end bigint;

-- Append-only log of every apply, revert and baseline: history survives a down.
CREATE TABLE IF NOT EXISTS mantis.migration_events (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version      bigint      NOT NULL,
    name         text        NOT NULL,
    action       text        NOT NULL CHECK (action IN ('up', 'down', 'baseline')),
    checksum     text        NOT NULL,
    mode         text        NOT NULL,
    duration_ms  bigint      NOT NULL,
    tool_version text        NOT NULL,
    at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    by           text        NOT NULL DEFAULT session_user
);

-- Backups taken by mantis (pg_dump, custom format), verified with
-- pg_restore --list before they are recorded.
CREATE TABLE IF NOT EXISTS mantis.backups (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    file           text        NOT NULL,
    size_bytes     bigint      NOT NULL CHECK (size_bytes > 0),
    sha256         text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    toc_entries    integer     NOT NULL,
    server_version text        NOT NULL,
    pg_dump        text        NOT NULL,
    schema_version bigint,
    duration_ms    bigint      NOT NULL,
    taken_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    taken_by       text        NOT NULL DEFAULT session_user
);
