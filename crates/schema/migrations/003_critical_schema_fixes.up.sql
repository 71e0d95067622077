-- mantis: no-transaction, lock-timeout=50ms, lock-retries=40
--
-- Migration 003: critical schema fixes (the seed's package, made correct).
--
-- Adds the stock-movement ledger, the brand catalogue, weighted-average cost on
-- stock, supplier contact columns, the referential rules of ADR-024, search and
-- valuation indexes and three materialized views, and backfills all of them
-- from the data that exists before the migration. docs/adr/ explains each choice.
--
-- Online (ADR-028): the shop keeps selling while this runs. No statement makes
-- a reader or writer of an existing table wait for long:
--   * DDL on existing tables is catalog-only and runs in short transactions
--     with lock_timeout 50ms: a DDL that cannot get its lock at once gives up
--     before the sessions queued behind it notice, and its block is retried
--     as a whole after a pause (lock-retries above);
--   * backfills of existing tables are batched (`-- mantis: batch`): each
--     batch of rows is its own transaction of a few tens of milliseconds, so
--     a writer waits at most for one batch's row locks;
--   * indexes are built CONCURRENTLY, constraints added NOT VALID and then
--     validated under SHARE UPDATE EXCLUSIVE (which blocks neither reads nor
--     writes).
-- The ledger is consistent while stock keeps moving: the posting trigger
-- exists from the moment the ledger does (phase 2), so every movement posted
-- during the migration moves its stock row and its movements together; the
-- opening balance of a stock row is what its movements do not yet explain,
-- which postings do not change. mantis records its progress (per batch) and
-- resumes where it stopped; every statement is safe to run again.
--
-- Batched statements read their key range from mantis.batch_first and
-- mantis.batch_last (set by mantis per batch). By hand, in one go (every lock
-- held until each statement ends, which is what batching avoids):
--   PGOPTIONS='-c mantis.batch_first=00000000-0000-0000-0000-000000000000 -c mantis.batch_last=ffffffff-ffff-ffff-ffff-ffffffffffff' \
--     psql -v ON_ERROR_STOP=1 -f THIS_FILE
-- Knobs read from the session (SET before running by hand):
--   mantis.base_currency   currency of stock costs (default ZAR); supplier
--                          prices in other currencies are not used as costs.

------------------------------------------------------------------------------
-- Phase 1: new types, helper functions, new tables. Existing tables are only
-- referenced (a brief SHARE ROW EXCLUSIVE lock on products and suppliers for
-- the report tables' foreign keys).
------------------------------------------------------------------------------
BEGIN;

DO $$
BEGIN
    IF to_regtype('core.movement_type') IS NULL THEN
        CREATE TYPE core.movement_type AS ENUM (
            'RECEIPT', 'SHIPMENT', 'ADJUSTMENT', 'TRANSFER',
            'RETURN', 'DAMAGED', 'THEFT', 'PRODUCTION');
    END IF;
    IF to_regtype('core.reference_type') IS NULL THEN
        CREATE TYPE core.reference_type AS ENUM (
            'PURCHASE_ORDER', 'SALES_ORDER', 'TRANSFER_ORDER',
            'MANUAL_ADJUSTMENT', 'SYSTEM_ADJUSTMENT', 'STOCK_COUNT');
    END IF;
    IF to_regtype('core.cost_method') IS NULL THEN
        CREATE TYPE core.cost_method AS ENUM ('FIFO', 'LIFO', 'WAC', 'SPECIFIC');
    END IF;
END
$$;

-- The one spelling rule for brands: case and runs of spaces do not matter.
CREATE OR REPLACE FUNCTION core.brand_key(name text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT lower(regexp_replace(btrim(name), '\s+', ' ', 'g')) $$;

-- A brand code derived from its name: Latin letters and digits joined by '_'.
-- Names without any (e.g. Cyrillic or CJK) get a code from a hash of the name,
-- so they are never dropped. Collisions are resolved by the backfill.
CREATE OR REPLACE FUNCTION core.brand_code_base(name text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT coalesce(
        nullif(rtrim(left(btrim(upper(regexp_replace(name, '[^A-Za-z0-9]+', '_', 'g')), '_'), 32), '_'), ''),
        'BRAND_' || upper(left(md5(core.brand_key(name)), 8))) $$;

-- Contact formats, shared by the CHECK constraints, the backfill and mantis.
CREATE OR REPLACE FUNCTION core.is_valid_email(value text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT length(value) <= 254
       AND value ~ '^[A-Za-z0-9._%+''-]+@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}$' $$;

CREATE OR REPLACE FUNCTION core.is_valid_phone(value text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT value ~ '^\+?[0-9 ().-]+$'
       AND length(regexp_replace(value, '[^0-9]', '', 'g')) BETWEEN 7 AND 15 $$;

CREATE OR REPLACE FUNCTION core.is_valid_website(value text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT length(value) <= 2048
       AND value ~* '^(https?://)?([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}(:[0-9]{1,5})?(/[^[:space:]]*)?$' $$;

CREATE OR REPLACE FUNCTION core.update_brand_timestamp() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

-- A brand inserted without a code (as the seed's design allows) gets the one
-- 003's rule derives from its name, made unique with _2, _3, ...
CREATE OR REPLACE FUNCTION core.brand_default_code() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    base text;
    n    int := 1;
BEGIN
    IF NEW.code IS NULL THEN
        base := core.brand_code_base(NEW.name);
        NEW.code := base;
        WHILE EXISTS (SELECT FROM core.brand b WHERE b.code = NEW.code) LOOP
            n := n + 1;
            NEW.code := base || '_' || n;
        END LOOP;
    END IF;
    RETURN NEW;
END
$$;

-- Privileges follow the data (ADR-029): each role granted one of `held` on
-- the existing table `source` (other than its owner, and never PUBLIC) is
-- granted `granted` on `target` ('TABLE core.x', 'SEQUENCE core.y'), which
-- this migration creates. Only mantis's own literals reach the EXECUTE.
CREATE OR REPLACE FUNCTION core.grant_following(target text, source regclass, held text[], granted text)
    RETURNS void
    LANGUAGE plpgsql AS
$$
DECLARE
    grantee regrole;
BEGIN
    FOR grantee IN
        SELECT DISTINCT a.grantee::regrole
        FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
        WHERE c.oid = source AND a.grantee <> 0 AND a.grantee <> c.relowner
          AND a.privilege_type = ANY (held)
    LOOP
        EXECUTE format('GRANT %s ON %s TO %s', granted, target, grantee);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION core.grant_following(text, regclass, text[], text) FROM PUBLIC;

-- The seed's columns and names (docs/seed-compatibility.md), with wider types.
CREATE TABLE IF NOT EXISTS core.brand (
    id                uuid        CONSTRAINT brand_pkey PRIMARY KEY DEFAULT gen_random_uuid(),
    name              text        NOT NULL CONSTRAINT brand_name_not_blank CHECK (btrim(name) <> ''),
    code              text        NOT NULL CONSTRAINT brand_code_format CHECK (code ~ '^[A-Z0-9][A-Z0-9_-]{0,49}$'),
    description       text,
    logo_url          text,
    website           text        CONSTRAINT brand_website_format CHECK (core.is_valid_website(website)),
    country_of_origin text,
    is_active         boolean     NOT NULL DEFAULT true,
    metadata          jsonb       DEFAULT '{}'::jsonb,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    created_by        uuid        CONSTRAINT brand_created_by_fkey REFERENCES core.users (id) ON DELETE SET NULL,
    updated_by        uuid        CONSTRAINT brand_updated_by_fkey REFERENCES core.users (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS idx_brand_code_unique ON core.brand (code) WHERE code IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS idx_brand_name_unique ON core.brand (core.brand_key(name));
CREATE INDEX IF NOT EXISTS idx_brand_active ON core.brand (name) WHERE is_active;
CREATE INDEX IF NOT EXISTS idx_brand_metadata ON core.brand USING gin (metadata);

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_trigger WHERE tgname = 'brand_update_timestamp' AND tgrelid = 'core.brand'::regclass) THEN
        CREATE TRIGGER brand_update_timestamp
            BEFORE UPDATE ON core.brand
            FOR EACH ROW EXECUTE FUNCTION core.update_brand_timestamp();
        CREATE TRIGGER brand_default_code
            BEFORE INSERT ON core.brand
            FOR EACH ROW EXECUTE FUNCTION core.brand_default_code();
    END IF;
END
$$;

-- Reports of the backfill: what could not be moved, and why. Nothing in them
-- was deleted anywhere; they say where the original value still is.
CREATE TABLE IF NOT EXISTS core.supplier_contact_issue (
    supplier_id uuid        NOT NULL
                CONSTRAINT fk_supplier_contact_issue_supplier REFERENCES core.suppliers (id) ON DELETE CASCADE,
    field       text        NOT NULL CONSTRAINT supplier_contact_issue_field CHECK (field IN ('email', 'phone', 'website')),
    value       text        NOT NULL,
    reason      text        NOT NULL,
    detected_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (supplier_id, field)
);
COMMENT ON TABLE core.supplier_contact_issue IS
    'Migration 003: supplier contact values in metadata that failed validation. They stay in suppliers.metadata.';

CREATE TABLE IF NOT EXISTS core.product_brand_issue (
    product_id      uuid        NOT NULL
                    CONSTRAINT fk_product_brand_issue_product REFERENCES core.products (id) ON DELETE CASCADE,
    legacy_brand_id uuid        NOT NULL,
    brand_text      text,
    resolution      text        NOT NULL,
    detected_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (product_id, legacy_brand_id)
);
COMMENT ON TABLE core.product_brand_issue IS
    'Migration 003: legacy products.brand_id values that pointed to no brand, and what was done with them.';

-- Who reads products reads brands; who writes products maintains brands.
SELECT core.grant_following('TABLE core.brand', 'core.products', '{SELECT}', 'SELECT');
SELECT core.grant_following('TABLE core.brand', 'core.products', '{INSERT,UPDATE}', 'SELECT, INSERT, UPDATE');
SELECT core.grant_following('TABLE core.product_brand_issue', 'core.products', '{SELECT}', 'SELECT');
SELECT core.grant_following('TABLE core.supplier_contact_issue', 'core.suppliers', '{SELECT}', 'SELECT');

COMMIT;

------------------------------------------------------------------------------
-- Phase 2: new columns on existing tables, the value rule of stock, and the
-- ledger with its posting rule, in one short transaction. Each ALTER takes a
-- brief ACCESS EXCLUSIVE lock (the ALTERs come last in the transaction, so
-- the locks are held only to its end) and rewrites nothing: no defaults that need a
-- rewrite, no STORED generated columns (total_value is kept by a trigger),
-- and CHECKs are added NOT VALID and validated in phase 5 under a weaker
-- lock. From this commit on, every movement moves its stock row.
------------------------------------------------------------------------------
BEGIN;

-- The audit trail (ADR-020). quantity is signed: in > 0, out < 0. The primary
-- key and the stock-row index exist from the start: the opening balances
-- (3e) look up each stock row's movements while the application posts new
-- ones. Foreign keys are added NOT VALID after the opening balances (3f) and
-- validated in phase 5; the other indexes are built in phase 6.
CREATE TABLE IF NOT EXISTS core.stock_movement (
    id               uuid                NOT NULL DEFAULT gen_random_uuid(),
    product_id       uuid                NOT NULL,
    warehouse_id     uuid                NOT NULL,
    movement_type    core.movement_type  NOT NULL,
    quantity         numeric(18,4)       NOT NULL CONSTRAINT stock_movement_quantity_not_zero CHECK (quantity <> 0),
    unit_of_measure  text                NOT NULL DEFAULT 'EA',
    cost_price       numeric(20,6)       CONSTRAINT stock_movement_cost_positive CHECK (cost_price IS NULL OR cost_price >= 0),
    total_cost       numeric(38,10)      GENERATED ALWAYS AS (quantity * cost_price) STORED,
    value_delta      numeric(38,10),
    reference_type   core.reference_type,
    reference_id     uuid,
    reference_number text,
    notes            text,
    metadata         jsonb               DEFAULT '{}'::jsonb,
    created_by       uuid,
    created_at       timestamptz         NOT NULL DEFAULT now(),
    CONSTRAINT stock_movement_pkey PRIMARY KEY (id),
    CONSTRAINT stock_movement_reference_has_type
        CHECK (reference_type IS NOT NULL OR (reference_id IS NULL AND reference_number IS NULL))
);

CREATE INDEX IF NOT EXISTS idx_stock_movement_product_time
    ON core.stock_movement (product_id, warehouse_id, created_at);

-- The ledger's own column (ADR-026, filled by 004's posting rule), created
-- here so that the opening balances below are written once with their value
-- instead of written here and rewritten by 004 (ADR-035).
COMMENT ON COLUMN core.stock_movement.value_delta IS
    'Exact change of the stock row''s value caused by this movement; the row''s total_value is the sum of these. NULL while the stock has no known cost.';

-- The posting rule (ADR-020/022). Every movement updates its stock row under a
-- row lock, so concurrent receipts cannot compute from the same old state.
-- Inbound with a cost moves the weighted average; inbound into zero or
-- negative stock takes the incoming cost; an unknown incoming cost is valued
-- at the current average, never as zero. Outbound keeps the average and
-- records it on the movement.
CREATE OR REPLACE FUNCTION core.update_stock_cost_on_movement() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    stock    core.stock_on_hand%ROWTYPE;
    new_cost numeric(20,6);
BEGIN
    IF current_setting('mantis.ledger_replay', true) = 'on' THEN
        RETURN NEW;
    END IF;
    SELECT * INTO stock FROM core.stock_on_hand
    WHERE product_id = NEW.product_id AND warehouse_id = NEW.warehouse_id
    FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO core.stock_on_hand (product_id, warehouse_id, quantity)
        VALUES (NEW.product_id, NEW.warehouse_id, 0)
        ON CONFLICT (product_id, warehouse_id) DO NOTHING;
        SELECT * INTO stock FROM core.stock_on_hand
        WHERE product_id = NEW.product_id AND warehouse_id = NEW.warehouse_id
        FOR UPDATE;
    END IF;

    IF NEW.quantity > 0 THEN
        NEW.cost_price := coalesce(NEW.cost_price, stock.cost_price);
        IF stock.quantity <= 0 OR stock.cost_price IS NULL THEN
            new_cost := NEW.cost_price;
        ELSIF NEW.cost_price IS NULL THEN
            new_cost := stock.cost_price;
        ELSE
            new_cost := round((stock.quantity * stock.cost_price + NEW.quantity * NEW.cost_price)
                              / (stock.quantity + NEW.quantity), 6);
        END IF;
    ELSE
        NEW.cost_price := stock.cost_price;
        new_cost := stock.cost_price;
    END IF;

    UPDATE core.stock_on_hand
    SET quantity = quantity + NEW.quantity,
        cost_price = new_cost,
        cost_source = CASE WHEN new_cost IS DISTINCT FROM stock.cost_price THEN 'MOVEMENT' ELSE cost_source END,
        last_cost_update_at = CASE WHEN new_cost IS DISTINCT FROM stock.cost_price THEN now() ELSE last_cost_update_at END,
        updated_at = now()
    WHERE id = stock.id;
    RETURN NEW;
END
$$;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_trigger WHERE tgname = 'stock_movement_update_cost' AND tgrelid = 'core.stock_movement'::regclass) THEN
        CREATE TRIGGER stock_movement_update_cost
            BEFORE INSERT ON core.stock_movement
            FOR EACH ROW EXECUTE FUNCTION core.update_stock_cost_on_movement();
    END IF;
END
$$;

-- Who reads stock reads its movements; who writes stock posts movements (and
-- no one but the owner may change or remove one).
SELECT core.grant_following('TABLE core.stock_movement', 'core.stock_on_hand', '{SELECT}', 'SELECT');
SELECT core.grant_following('TABLE core.stock_movement', 'core.stock_on_hand', '{INSERT,UPDATE,DELETE}', 'SELECT, INSERT');

-- The ALTERs come last: the ACCESS EXCLUSIVE locks they take on
-- core.stock_on_hand and core.suppliers are held from there to COMMIT
-- only, not while the ledger is created (on a starved CPU that was
-- hundreds of milliseconds of every reader and writer waiting).
ALTER TABLE core.stock_on_hand
    ADD COLUMN IF NOT EXISTS cost_price          numeric(20,6),
    ADD COLUMN IF NOT EXISTS cost_method         core.cost_method NOT NULL DEFAULT 'WAC',
    ADD COLUMN IF NOT EXISTS cost_source         text,
    ADD COLUMN IF NOT EXISTS last_cost_update_at timestamptz,
    ADD COLUMN IF NOT EXISTS total_value         numeric(38,10);

ALTER TABLE core.suppliers
    ADD COLUMN IF NOT EXISTS contact_phone text,
    ADD COLUMN IF NOT EXISTS contact_email text,
    ADD COLUMN IF NOT EXISTS website       text,
    ADD COLUMN IF NOT EXISTS payment_terms text;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_constraint WHERE conname = 'stock_on_hand_cost_positive'
                   AND conrelid = 'core.stock_on_hand'::regclass) THEN
        ALTER TABLE core.stock_on_hand
            ADD CONSTRAINT stock_on_hand_cost_positive CHECK (cost_price IS NULL OR cost_price >= 0) NOT VALID,
            ADD CONSTRAINT stock_on_hand_cost_source_known
                CHECK (cost_source IN ('PREFERRED_SUPPLIER', 'SUPPLIER_PRICE', 'MOVEMENT', 'MANUAL')) NOT VALID;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_constraint WHERE conname = 'suppliers_email_format'
                   AND conrelid = 'core.suppliers'::regclass) THEN
        ALTER TABLE core.suppliers
            ADD CONSTRAINT suppliers_email_format CHECK (core.is_valid_email(contact_email)) NOT VALID,
            ADD CONSTRAINT suppliers_phone_format CHECK (core.is_valid_phone(contact_phone)) NOT VALID,
            ADD CONSTRAINT suppliers_website_format CHECK (core.is_valid_website(website)) NOT VALID;
    END IF;
END
$$;

-- Stock value = quantity x unit cost, kept by a trigger rather than a STORED
-- generated column (adding one rewrites the whole table under ACCESS
-- EXCLUSIVE). Installed before any cost is set, so no row is ever out of line.
CREATE OR REPLACE FUNCTION core.stock_on_hand_value() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    NEW.total_value := NEW.quantity * NEW.cost_price;
    RETURN NEW;
END
$$;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_trigger WHERE tgname = 'trg_stock_on_hand_value' AND tgrelid = 'core.stock_on_hand'::regclass) THEN
        CREATE TRIGGER trg_stock_on_hand_value
            BEFORE INSERT OR UPDATE ON core.stock_on_hand
            FOR EACH ROW EXECUTE FUNCTION core.stock_on_hand_value();
    END IF;
END
$$;

COMMIT;

------------------------------------------------------------------------------
-- Phase 3: backfills. Each one only fills what is still empty, so a re-run
-- neither duplicates nor overwrites values changed since. Those that write
-- existing tables are batched.
------------------------------------------------------------------------------

-- 3a. Brands from products.brand_from_supplier. Spellings that differ only in
-- case or spacing are one brand, named by its most frequent spelling. Codes
-- are deterministic: in key order, the first brand gets the base code, later
-- ones _2, _3, ... (never dropped on a conflict).
DO $$
DECLARE
    brand record;
    v_base text;
    v_code text;
    n     int;
    made  int := 0;
BEGIN
    FOR brand IN
        SELECT key, spelling
        FROM (
            SELECT DISTINCT ON (key) key, spelling
            FROM (
                SELECT core.brand_key(brand_from_supplier) AS key,
                       regexp_replace(btrim(brand_from_supplier), '\s+', ' ', 'g') AS spelling,
                       count(*) AS uses
                FROM core.products
                WHERE btrim(brand_from_supplier) <> ''
                GROUP BY 1, 2
            ) spellings
            WHERE NOT EXISTS (SELECT FROM core.brand b WHERE core.brand_key(b.name) = spellings.key)
            ORDER BY key, uses DESC, spelling COLLATE "C"
        ) chosen
        ORDER BY key COLLATE "C"
    LOOP
        v_base := core.brand_code_base(brand.spelling);
        v_code := v_base;
        n := 1;
        WHILE EXISTS (SELECT FROM core.brand b WHERE b.code = v_code) LOOP
            n := n + 1;
            v_code := v_base || '_' || n;
        END LOOP;
        INSERT INTO core.brand (name, code) VALUES (brand.spelling, v_code);
        made := made + 1;
    END LOOP;
    RAISE NOTICE '003: % brand(s) created from products.brand_from_supplier', made;
END
$$;

-- 3b. Legacy brand_id values that point to no brand: recorded first (so the
-- old value is never lost), then, batch by batch, relinked by brand text or
-- cleared; products with brand text and no brand get theirs.
INSERT INTO core.product_brand_issue (product_id, legacy_brand_id, brand_text, resolution)
SELECT p.id, p.brand_id, p.brand_from_supplier,
       CASE WHEN btrim(p.brand_from_supplier) <> ''
            THEN 'relinked by brand text'
            ELSE 'cleared: no brand text to link by' END
FROM core.products p
WHERE p.brand_id IS NOT NULL
  AND NOT EXISTS (SELECT FROM core.brand b WHERE b.id = p.brand_id)
ON CONFLICT (product_id, legacy_brand_id) DO NOTHING;

-- mantis: batch table=core.products key=id order=physical rows=5000 time=40ms
UPDATE core.products p
SET brand_id = (SELECT b.id FROM core.brand b
                WHERE btrim(p.brand_from_supplier) <> ''
                  AND core.brand_key(b.name) = core.brand_key(p.brand_from_supplier))
WHERE p.ctid BETWEEN current_setting('mantis.batch_first_ctid')::tid AND current_setting('mantis.batch_last_ctid')::tid
  AND p.id BETWEEN current_setting('mantis.batch_first')::uuid AND current_setting('mantis.batch_last')::uuid
  AND CASE WHEN p.brand_id IS NULL
           THEN btrim(p.brand_from_supplier) <> ''
                AND EXISTS (SELECT FROM core.brand b
                            WHERE core.brand_key(b.name) = core.brand_key(p.brand_from_supplier))
           ELSE NOT EXISTS (SELECT FROM core.brand b WHERE b.id = p.brand_id) END;

-- 3c. Supplier contacts from metadata. Valid values are copied into the new
-- columns; metadata itself is left as it was. Invalid values are listed in
-- core.supplier_contact_issue with the reason. The default payment terms
-- apply only where no terms are known.
-- mantis: batch table=core.suppliers key=id rows=2000 time=40ms
WITH contact AS (
    SELECT id,
           nullif(btrim(metadata->>'email'), '')         AS email,
           nullif(btrim(metadata->>'phone'), '')         AS phone,
           nullif(btrim(metadata->>'website'), '')       AS website,
           nullif(btrim(metadata->>'payment_terms'), '') AS payment_terms
    FROM core.suppliers
    WHERE id BETWEEN current_setting('mantis.batch_first')::uuid AND current_setting('mantis.batch_last')::uuid
)
UPDATE core.suppliers s
SET contact_email = CASE WHEN core.is_valid_email(c.email) THEN lower(c.email) END,
    contact_phone = CASE WHEN core.is_valid_phone(c.phone) THEN c.phone END,
    website       = CASE WHEN core.is_valid_website(c.website) THEN c.website END,
    payment_terms = coalesce(c.payment_terms, 'Net 30')
FROM contact c
WHERE c.id = s.id
  AND s.contact_email IS NULL AND s.contact_phone IS NULL
  AND s.website IS NULL AND s.payment_terms IS NULL;

ALTER TABLE core.suppliers ALTER COLUMN payment_terms SET DEFAULT 'Net 30';

INSERT INTO core.supplier_contact_issue (supplier_id, field, value, reason)
SELECT s.id, f.field, f.value, f.reason
FROM core.suppliers s
CROSS JOIN LATERAL (VALUES
    ('email', nullif(btrim(s.metadata->>'email'), ''),
     'not an email address (expected name@domain.tld)', core.is_valid_email(btrim(s.metadata->>'email'))),
    ('phone', nullif(btrim(s.metadata->>'phone'), ''),
     'not a phone number (expected 7 to 15 digits, optionally +, spaces, dashes, dots or parentheses)',
     core.is_valid_phone(btrim(s.metadata->>'phone'))),
    ('website', nullif(btrim(s.metadata->>'website'), ''),
     'not a website address (expected a domain such as example.com, optionally with http:// or https://)',
     core.is_valid_website(btrim(s.metadata->>'website')))
) AS f(field, value, reason, valid)
WHERE f.value IS NOT NULL AND NOT f.valid
ON CONFLICT (supplier_id, field) DO UPDATE SET value = EXCLUDED.value, reason = EXCLUDED.reason;

-- 3d. Unit cost of existing stock from the best price known before 003: the
-- preferred supplier's, else another supplier's (most recently updated). Only
-- positive prices in the base currency count. cost_source says which. A
-- stock row that received a costed movement meanwhile already has its cost.
-- Each stock row looks up its product's prices by this index. The rows are
-- walked page by page (order=physical, docs/migrations.md): in key order each
-- row's page would be written once per row, with a full-page image after
-- every checkpoint (15 GB of WAL at a million products, against the table's
-- 0.4 GB).
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_supplier_products_product
    ON core.supplier_products (product_id);

-- mantis: batch table=core.stock_on_hand key=id order=physical rows=5000 time=40ms
UPDATE core.stock_on_hand s
SET cost_price = c.cost_price,
    cost_source = c.source,
    last_cost_update_at = now()
FROM core.stock_on_hand target
CROSS JOIN LATERAL (
    SELECT sp.cost_price,
           CASE WHEN sp.is_preferred THEN 'PREFERRED_SUPPLIER' ELSE 'SUPPLIER_PRICE' END AS source
    FROM core.supplier_products sp
    JOIN core.suppliers su ON su.id = sp.supplier_id
    WHERE sp.product_id = target.product_id
      AND sp.cost_price > 0
      AND sp.currency = coalesce(nullif(current_setting('mantis.base_currency', true), ''), 'ZAR')
    ORDER BY sp.is_preferred DESC, su.is_active DESC, sp.updated_at DESC, sp.cost_price, sp.supplier_id
    LIMIT 1
) c
WHERE target.ctid BETWEEN current_setting('mantis.batch_first_ctid')::tid AND current_setting('mantis.batch_last_ctid')::tid
  AND target.id BETWEEN current_setting('mantis.batch_first')::uuid AND current_setting('mantis.batch_last')::uuid
  AND target.cost_price IS NULL
  AND s.id = target.id
  AND s.cost_price IS NULL;

DO $$
DECLARE
    stocked bigint;
    costed  bigint;
BEGIN
    SELECT count(*), count(cost_price) INTO stocked, costed
    FROM core.stock_on_hand WHERE quantity > 0;
    RAISE NOTICE '003: cost coverage % of % stock rows with quantity > 0 (% %%)',
        costed, stocked, CASE WHEN stocked = 0 THEN 100 ELSE round(costed * 100.0 / stocked, 1) END;
END
$$;

-- 3e. Opening balances, batch by batch: the part of each stock row's quantity
-- that its movements do not explain becomes one ADJUSTMENT at the row's unit
-- cost. No lock is needed (ADR-028): since phase 2 every posting changes a
-- row's quantity and its movements' sum by the same amount in one
-- transaction, so the difference is the same in every snapshot, whether a
-- posting in flight commits before this batch or after it; postings are
-- never counted twice. mantis.ledger_replay tells the posting trigger that
-- these record stock that is already there.
-- The rows are walked in product order (the key need not be unique: a batch
-- takes every row of its last product) and each movement's id starts with
-- the time it was written (as a UUIDv7 does), so that the ledger's indexes
-- grow at one end instead of at a random page per row, and 004 walks these
-- movements by id in the order they lie on disk. Each is written with its
-- value (quantity x unit cost, as 004 values the movements before it), so
-- 004 has nothing to rewrite. Each stock row looks up its product by key
-- (OFFSET 0 keeps it a per-row lookup): the planner estimates a batch's
-- range of random uuids no finer than a histogram bucket, thousands of rows,
-- and would otherwise hash all of core.products for a batch of a few hundred.
-- mantis: batch table=core.stock_on_hand key=product_id rows=5000 time=40ms
DO $$
BEGIN
    PERFORM set_config('mantis.ledger_replay', 'on', true);
    INSERT INTO core.stock_movement
        (id, product_id, warehouse_id, movement_type, quantity, unit_of_measure, cost_price, value_delta,
         reference_type, reference_number, notes)
    SELECT encode(set_byte(o.id, 6, (get_byte(o.id, 6) & 15) | 112), 'hex')::uuid,
           o.product_id, o.warehouse_id, 'ADJUSTMENT', o.quantity, o.unit_of_measure, o.cost_price,
           o.quantity * o.cost_price, 'SYSTEM_ADJUSTMENT', 'OPENING-BALANCE', 'Opening balance written by migration 003'
    FROM (
        SELECT overlay(uuid_send(gen_random_uuid())
                       PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                       FROM 1 FOR 6) AS id,
               s.product_id, s.warehouse_id, s.quantity - coalesce(m.total, 0) AS quantity,
               p.unit_of_measure, s.cost_price
        FROM core.stock_on_hand s
        JOIN LATERAL (SELECT p.unit_of_measure FROM core.products p WHERE p.id = s.product_id OFFSET 0) p ON true
        LEFT JOIN LATERAL (SELECT sum(m.quantity) AS total FROM core.stock_movement m
                           WHERE m.product_id = s.product_id AND m.warehouse_id = s.warehouse_id) m ON true
        WHERE s.product_id BETWEEN current_setting('mantis.batch_first')::uuid AND current_setting('mantis.batch_last')::uuid
          AND s.quantity <> coalesce(m.total, 0)
        ORDER BY s.product_id, s.warehouse_id
    ) o;
    PERFORM set_config('mantis.ledger_replay', '', true);
END
$$;

-- 3f. The ledger's foreign keys, NOT VALID (a brief lock, no scan), validated
-- in phase 5.
BEGIN;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_constraint WHERE conname = 'stock_movement_product_id_fkey'
                   AND conrelid = 'core.stock_movement'::regclass) THEN
        ALTER TABLE core.stock_movement
            ADD CONSTRAINT stock_movement_product_id_fkey
                FOREIGN KEY (product_id) REFERENCES core.products (id) ON DELETE CASCADE NOT VALID,
            ADD CONSTRAINT stock_movement_warehouse_id_fkey
                FOREIGN KEY (warehouse_id) REFERENCES core.warehouses (id) ON DELETE CASCADE NOT VALID,
            ADD CONSTRAINT stock_movement_created_by_fkey
                FOREIGN KEY (created_by) REFERENCES core.users (id) ON DELETE SET NULL NOT VALID;
    END IF;
END
$$;

COMMIT;

------------------------------------------------------------------------------
-- Phase 5: referential rules (ADR-024), under the names PostgreSQL gives a
-- foreign key by default (the seed's names). 001's plain keys are replaced,
-- one table per transaction, by keys of the same name with their ON DELETE rule, added
-- NOT VALID (a brief lock, no scan); each is then validated on its own under
-- SHARE UPDATE EXCLUSIVE, which blocks neither reads nor writes. A key that
-- already has its rule is left as it is, so a re-run changes nothing.
------------------------------------------------------------------------------
BEGIN;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_constraint WHERE conname = 'products_brand_id_fkey'
                   AND conrelid = 'core.products'::regclass AND confdeltype = 'n') THEN
        ALTER TABLE core.products
            DROP CONSTRAINT IF EXISTS products_brand_id_fkey,
            ADD CONSTRAINT products_brand_id_fkey
                FOREIGN KEY (brand_id) REFERENCES core.brand (id) ON DELETE SET NULL NOT VALID;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_constraint WHERE conname = 'products_category_id_fkey'
                   AND conrelid = 'core.products'::regclass AND confdeltype = 'n') THEN
        ALTER TABLE core.products
            DROP CONSTRAINT IF EXISTS products_category_id_fkey,
            ADD CONSTRAINT products_category_id_fkey
                FOREIGN KEY (category_id) REFERENCES core.categories (id) ON DELETE SET NULL NOT VALID;
    END IF;
END
$$;

COMMIT;

BEGIN;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_constraint WHERE conname = 'stock_on_hand_product_id_fkey'
                   AND conrelid = 'core.stock_on_hand'::regclass AND confdeltype = 'c') THEN
        ALTER TABLE core.stock_on_hand
            DROP CONSTRAINT IF EXISTS stock_on_hand_product_id_fkey,
            ADD CONSTRAINT stock_on_hand_product_id_fkey
                FOREIGN KEY (product_id) REFERENCES core.products (id) ON DELETE CASCADE NOT VALID;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_constraint WHERE conname = 'stock_on_hand_warehouse_id_fkey'
                   AND conrelid = 'core.stock_on_hand'::regclass AND confdeltype = 'r') THEN
        ALTER TABLE core.stock_on_hand
            DROP CONSTRAINT IF EXISTS stock_on_hand_warehouse_id_fkey,
            ADD CONSTRAINT stock_on_hand_warehouse_id_fkey
                FOREIGN KEY (warehouse_id) REFERENCES core.warehouses (id) ON DELETE RESTRICT NOT VALID;
    END IF;
END
$$;

COMMIT;

ALTER TABLE core.products VALIDATE CONSTRAINT products_brand_id_fkey;
ALTER TABLE core.products VALIDATE CONSTRAINT products_category_id_fkey;
ALTER TABLE core.stock_on_hand VALIDATE CONSTRAINT stock_on_hand_product_id_fkey;
ALTER TABLE core.stock_on_hand VALIDATE CONSTRAINT stock_on_hand_warehouse_id_fkey;
ALTER TABLE core.stock_movement VALIDATE CONSTRAINT stock_movement_product_id_fkey;
ALTER TABLE core.stock_movement VALIDATE CONSTRAINT stock_movement_warehouse_id_fkey;
ALTER TABLE core.stock_movement VALIDATE CONSTRAINT stock_movement_created_by_fkey;
ALTER TABLE core.stock_on_hand VALIDATE CONSTRAINT stock_on_hand_cost_positive;
ALTER TABLE core.stock_on_hand VALIDATE CONSTRAINT stock_on_hand_cost_source_known;
ALTER TABLE core.suppliers VALIDATE CONSTRAINT suppliers_email_format;
ALTER TABLE core.suppliers VALIDATE CONSTRAINT suppliers_phone_format;
ALTER TABLE core.suppliers VALIDATE CONSTRAINT suppliers_website_format;

------------------------------------------------------------------------------
-- Phase 6: lookup indexes (ADR-025), built CONCURRENTLY: neither
-- reads nor writes wait. Predicates use only immutable expressions.
------------------------------------------------------------------------------
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_stock_movement_warehouse_time
    ON core.stock_movement (warehouse_id, created_at DESC);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_stock_movement_reference
    ON core.stock_movement (reference_type, reference_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS stock_movement_type_time_idx
    ON core.stock_movement (movement_type, created_at);
-- The newest movements first (a feed); and time ranges ("recent") by block.
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_stock_movement_created_at
    ON core.stock_movement (created_at DESC);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_stock_movement_recent
    ON core.stock_movement USING brin (created_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_stock_movement_metadata
    ON core.stock_movement USING gin (metadata);
CREATE INDEX CONCURRENTLY IF NOT EXISTS products_brand_idx
    ON core.products (brand_id) WHERE brand_id IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS products_category_idx
    ON core.products (category_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_products_active
    ON core.products (id, name, sku) WHERE is_active = true;
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_products_name_lower
    ON core.products (lower(name) text_pattern_ops);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_products_sku_lower
    ON core.products (lower(sku) text_pattern_ops);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_products_search
    ON core.products USING gin (to_tsvector('simple'::regconfig,
        coalesce(name, '') || ' ' || sku || ' ' || coalesce(description, '')));
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_stock_on_hand_valuation
    ON core.stock_on_hand (warehouse_id) INCLUDE (product_id, quantity, cost_price, total_value);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_stock_on_hand_active
    ON core.stock_on_hand (product_id, warehouse_id) WHERE quantity > 0;
CREATE INDEX CONCURRENTLY IF NOT EXISTS stock_on_hand_out_of_stock_idx
    ON core.stock_on_hand (warehouse_id, product_id) WHERE quantity <= 0;
CREATE INDEX CONCURRENTLY IF NOT EXISTS supplier_products_preferred_idx
    ON core.supplier_products (product_id) INCLUDE (cost_price, currency) WHERE is_preferred;
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_suppliers_active
    ON core.suppliers (id, name) WHERE is_active = true;
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_suppliers_name_lower
    ON core.suppliers (lower(name));
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_suppliers_email
    ON core.suppliers (contact_email) WHERE contact_email IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_suppliers_phone
    ON core.suppliers (contact_phone) WHERE contact_phone IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_suppliers_search
    ON core.suppliers USING gin (to_tsvector('english'::regconfig,
        coalesce(name, '') || ' ' || coalesce(description, '')));

------------------------------------------------------------------------------
-- Phase 7: materialized views (ADR-025), each with the unique index that
-- REFRESH ... CONCURRENTLY needs, populated at the end with the final data.
------------------------------------------------------------------------------
BEGIN;

CREATE MATERIALIZED VIEW IF NOT EXISTS core.mv_inventory_valuation AS
SELECT w.id                                                        AS warehouse_id,
       w.code                                                      AS warehouse_code,
       w.name                                                      AS warehouse_name,
       count(s.id) FILTER (WHERE s.quantity > 0)                   AS product_count,
       coalesce(sum(s.quantity), 0)                                AS total_units,
       coalesce(sum(s.total_value), 0)                             AS total_value,
       round(sum(s.total_value) FILTER (WHERE s.quantity > 0)
             / nullif(sum(s.quantity) FILTER (WHERE s.quantity > 0 AND s.cost_price IS NOT NULL), 0), 6)
                                                                   AS avg_unit_cost,
       count(s.id) FILTER (WHERE s.quantity > 0 AND s.cost_price IS NULL) AS uncosted_rows,
       now()                                                       AS last_refresh
FROM core.warehouses w
LEFT JOIN core.stock_on_hand s ON s.warehouse_id = w.id
GROUP BY w.id, w.code, w.name
WITH NO DATA;
CREATE UNIQUE INDEX IF NOT EXISTS idx_mv_inventory_valuation_pk
    ON core.mv_inventory_valuation (warehouse_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS core.mv_product_stock_summary AS
SELECT p.id                                          AS product_id,
       p.sku,
       p.name,
       p.brand_id,
       b.name                                        AS brand_name,
       p.category_id,
       p.is_active,
       p.min_stock_level,
       coalesce(sum(s.quantity), 0)                  AS total_quantity,
       coalesce(sum(s.total_value), 0)               AS total_value,
       count(s.id) FILTER (WHERE s.quantity > 0)     AS warehouse_count,
       round(sum(s.total_value) FILTER (WHERE s.quantity > 0)
             / nullif(sum(s.quantity) FILTER (WHERE s.quantity > 0 AND s.cost_price IS NOT NULL), 0), 6)
                                                     AS avg_cost,
       min(s.last_cost_update_at)                    AS oldest_cost_date,
       coalesce(sum(s.quantity), 0) < p.min_stock_level AS below_minimum,
       now()                                         AS last_refresh
FROM core.products p
LEFT JOIN core.brand b ON b.id = p.brand_id
LEFT JOIN core.stock_on_hand s ON s.product_id = p.id
GROUP BY p.id, b.id
WITH NO DATA;
CREATE UNIQUE INDEX IF NOT EXISTS idx_mv_product_stock_pk
    ON core.mv_product_stock_summary (product_id);
CREATE INDEX IF NOT EXISTS mv_product_stock_summary_brand_idx
    ON core.mv_product_stock_summary (brand_id);
CREATE INDEX IF NOT EXISTS idx_mv_product_stock_quantity
    ON core.mv_product_stock_summary (total_quantity DESC);
CREATE INDEX IF NOT EXISTS idx_mv_product_stock_value
    ON core.mv_product_stock_summary (total_value DESC);

CREATE MATERIALIZED VIEW IF NOT EXISTS core.mv_low_stock_alerts AS
SELECT s.product_id,
       s.warehouse_id,
       p.sku,
       p.name,
       w.code                                   AS warehouse_code,
       w.name                                   AS warehouse_name,
       s.quantity,
       p.min_stock_level,
       p.max_stock_level,
       p.min_stock_level - s.quantity           AS units_below_min,
       CASE WHEN s.quantity <= 0 THEN 'OUT_OF_STOCK'
            WHEN s.quantity <= p.min_stock_level * 0.5 THEN 'CRITICAL'
            ELSE 'LOW' END                      AS severity,
       now()                                    AS last_refresh
FROM core.stock_on_hand s
JOIN core.products p ON p.id = s.product_id
JOIN core.warehouses w ON w.id = s.warehouse_id
WHERE p.is_active AND w.is_active
  AND p.min_stock_level > 0
  AND s.quantity < p.min_stock_level
WITH NO DATA;
CREATE UNIQUE INDEX IF NOT EXISTS mv_low_stock_alerts_key
    ON core.mv_low_stock_alerts (product_id, warehouse_id);
CREATE INDEX IF NOT EXISTS idx_mv_low_stock_severity
    ON core.mv_low_stock_alerts (severity, product_id);
CREATE INDEX IF NOT EXISTS idx_mv_low_stock_warehouse
    ON core.mv_low_stock_alerts (warehouse_id, severity);

-- Who reads stock reads the views over it.
SELECT core.grant_following('TABLE core.' || v, 'core.stock_on_hand', '{SELECT}', 'SELECT')
FROM unnest(ARRAY['mv_inventory_valuation', 'mv_product_stock_summary', 'mv_low_stock_alerts']) AS v;

-- Refreshes each view: CONCURRENTLY (readers keep reading) once it has been
-- populated, plainly the first time (PostgreSQL cannot refresh an unpopulated
-- view concurrently). Returns what it did and how long each took.
CREATE OR REPLACE FUNCTION core.refresh_all_inventory_views()
    RETURNS TABLE (view_name text, refreshed_concurrently boolean, duration interval)
    LANGUAGE plpgsql AS
$$
DECLARE
    started timestamptz;
BEGIN
    FOREACH view_name IN ARRAY ARRAY['mv_inventory_valuation', 'mv_product_stock_summary', 'mv_low_stock_alerts'] LOOP
        SELECT m.ispopulated INTO refreshed_concurrently
        FROM pg_matviews m WHERE m.schemaname = 'core' AND m.matviewname = view_name;
        started := clock_timestamp();
        IF refreshed_concurrently THEN
            EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY core.%I', view_name);
        ELSE
            EXECUTE format('REFRESH MATERIALIZED VIEW core.%I', view_name);
        END IF;
        duration := clock_timestamp() - started;
        RETURN NEXT;
    END LOOP;
END
$$;

COMMIT;

SELECT view_name, refreshed_concurrently, duration FROM core.refresh_all_inventory_views();

ANALYZE core.brand;
ANALYZE core.stock_movement;
ANALYZE core.products;
ANALYZE core.stock_on_hand;

DO $$
DECLARE
    brands   bigint;
    branded  bigint;
    products bigint;
    emails   bigint;
    issues   bigint;
BEGIN
    SELECT count(*) INTO brands FROM core.brand;
    SELECT count(*), count(brand_id) INTO products, branded FROM core.products;
    SELECT count(contact_email) INTO emails FROM core.suppliers;
    SELECT count(*) INTO issues FROM core.supplier_contact_issue;
    RAISE NOTICE '003: % brands; % of % products linked to a brand; % suppliers with an email; % contact value(s) reported in core.supplier_contact_issue',
        brands, branded, products, emails, issues;
END
$$;
