DROP TABLE IF EXISTS bench_plain;
CREATE TABLE bench_plain (LIKE core.stock_movement INCLUDING ALL);
