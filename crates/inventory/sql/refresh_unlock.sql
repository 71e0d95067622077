SELECT pg_advisory_unlock(x'6d616e74'::int, x'69730002'::int)
