-- Whether every one of the views $1 exists in schema core.
SELECT count(*) = cardinality($1::text[]) AS present FROM pg_matviews
WHERE schemaname = 'core' AND matviewname = ANY($1::text[])
