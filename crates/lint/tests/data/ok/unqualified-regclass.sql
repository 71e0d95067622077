SELECT indexname, pg_relation_size(format('%I.%I', schemaname, indexname)::regclass)
FROM pg_indexes WHERE schemaname = 'core';
SELECT pg_relation_size('core.products'::regclass);
