SELECT
  project AS project,
  CAST(make_timestamp(epoch_us(timestamp)) AS DATE) AS date,
  version AS version,
  file_type AS file_type,
  installer AS installer,
  NULLIF(regexp_extract(python_full, '^[0-9]+\.[0-9]+'), '') AS python,
  system AS system,
  country AS country,
  coalesce(ci_raw, false) AS ci,
  count(*) AS downloads
FROM rows
WHERE timestamp >= $start AND timestamp < $end AND project IS NOT NULL AND project >= $piece_project_low AND project < $piece_project_high AND timestamp < $piece_time_high
GROUP BY ALL
