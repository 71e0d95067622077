-- Migration 001: the MantisNXT core schema as it stood before migration 003.
--
-- This is the baseline the seed's package assumed. Existing MantisNXT databases
-- already have it: record them with `mantis baseline --version 1` instead of
-- running this file. Runnable by hand: psql -v ON_ERROR_STOP=1 -f THIS_FILE
-- (inside BEGIN/COMMIT; mantis wraps it in one transaction itself).

-- gen_random_uuid() is built in from PostgreSQL 13; version 12 needs pgcrypto.
DO $$
BEGIN
    IF current_setting('server_version_num')::int < 130000 THEN
        CREATE EXTENSION IF NOT EXISTS pgcrypto;
    END IF;
END
$$;

CREATE SCHEMA IF NOT EXISTS core;

CREATE TABLE core.users (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    email        text        NOT NULL UNIQUE,
    display_name text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Legacy contact data (email, phone, website, payment_terms) lives in metadata,
-- as suppliers sent it: often dirty. Migration 003 moves the valid part out.
CREATE TABLE core.suppliers (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text        NOT NULL,
    description text,
    is_active   boolean     NOT NULL DEFAULT true,
    metadata    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE core.categories (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    name       text        NOT NULL,
    parent_id  uuid        REFERENCES core.categories (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- brand_from_supplier: free text as suppliers spell it. brand_id exists but has
-- no foreign key and is unused (legacy values may point nowhere).
CREATE TABLE core.products (
    id                  uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    sku                 text          NOT NULL UNIQUE,
    name                text          NOT NULL,
    description         text,
    category_id         uuid          REFERENCES core.categories (id),
    brand_from_supplier text,
    brand_id            uuid,
    unit_of_measure     text          NOT NULL DEFAULT 'EA',
    min_stock_level     numeric(18,4) NOT NULL DEFAULT 0,
    max_stock_level     numeric(18,4),
    is_active           boolean       NOT NULL DEFAULT true,
    created_at          timestamptz   NOT NULL DEFAULT now(),
    updated_at          timestamptz   NOT NULL DEFAULT now()
);

CREATE TABLE core.supplier_products (
    id           uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    supplier_id  uuid          NOT NULL REFERENCES core.suppliers (id),
    product_id   uuid          NOT NULL REFERENCES core.products (id),
    supplier_sku text,
    cost_price   numeric(18,4),
    currency     text          NOT NULL DEFAULT 'ZAR',
    is_preferred boolean       NOT NULL DEFAULT false,
    created_at   timestamptz   NOT NULL DEFAULT now(),
    updated_at   timestamptz   NOT NULL DEFAULT now(),
    UNIQUE (supplier_id, product_id)
);

CREATE TABLE core.warehouses (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    code       text        NOT NULL UNIQUE,
    name       text        NOT NULL,
    is_active  boolean     NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Plain foreign keys (no ON DELETE rule): migration 003 sets the referential rules.
CREATE TABLE core.stock_on_hand (
    id           uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    product_id   uuid          NOT NULL REFERENCES core.products (id),
    warehouse_id uuid          NOT NULL REFERENCES core.warehouses (id),
    quantity     numeric(18,4) NOT NULL DEFAULT 0,
    created_at   timestamptz   NOT NULL DEFAULT now(),
    updated_at   timestamptz   NOT NULL DEFAULT now(),
    UNIQUE (product_id, warehouse_id)
);
