-- Reverts migration 001: drops the core tables and, if nothing else lives
-- there, the core schema. This deletes all core data by design; take a backup
-- first. DROP SCHEMA has no CASCADE on purpose: objects created outside the
-- migration history make it fail instead of vanishing.
DROP TABLE core.stock_on_hand;
DROP TABLE core.supplier_products;
DROP TABLE core.products;
DROP TABLE core.categories;
DROP TABLE core.warehouses;
DROP TABLE core.suppliers;
DROP TABLE core.users;
DROP SCHEMA core;
