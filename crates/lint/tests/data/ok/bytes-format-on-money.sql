SELECT to_char(sum(total_value), 'FM999G999G990D00'), pg_size_pretty(pg_total_relation_size('core.products'))
FROM core.inventory_valuation;
