-- Whether a view is populated (a concurrent refresh needs it).
SELECT ispopulated FROM pg_matviews WHERE schemaname = 'core' AND matviewname = $1
