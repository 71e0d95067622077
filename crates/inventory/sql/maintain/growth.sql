-- Movements per month over the last $1 months, hot and archived.
SELECT to_char(month, 'YYYY-MM') AS month, sum(hot)::bigint AS hot, sum(archived)::bigint AS archived
FROM (SELECT date_trunc('month', created_at) AS month, count(*) AS hot, 0 AS archived
      FROM core.stock_movement
      WHERE created_at >= date_trunc('month', now()) - make_interval(months => $1::int - 1)
      GROUP BY 1
      UNION ALL
      SELECT date_trunc('month', created_at), 0, count(*)
      FROM core.stock_movement_archive
      WHERE created_at >= date_trunc('month', now()) - make_interval(months => $1::int - 1)
      GROUP BY 1) m
GROUP BY month
ORDER BY month
