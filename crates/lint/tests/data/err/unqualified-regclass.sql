SELECT indexname,
       pg_relation_size(indexname::regclass) -- expect: unqualified-regclass
FROM pg_indexes WHERE schemaname = 'core';
