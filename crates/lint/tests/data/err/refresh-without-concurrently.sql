REFRESH MATERIALIZED VIEW core.inventory_valuation; -- expect: refresh-without-concurrently
