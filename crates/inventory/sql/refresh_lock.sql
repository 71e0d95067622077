-- Refreshes of the views take turns: a session-level advisory lock of their
-- own ("mant", "is" + 2), next to the migration lock ("is" + 1).
SELECT pg_try_advisory_lock(x'6d616e74'::int, x'69730002'::int) AS taken
