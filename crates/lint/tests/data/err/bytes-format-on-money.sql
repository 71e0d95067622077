SELECT pg_size_pretty(sum(total_value)::bigint) FROM core.inventory_valuation; -- expect: bytes-format-on-money
