DROP INDEX core.products_legacy_code; -- expect: drop-index-without-concurrently
