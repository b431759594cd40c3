SELECT name, version, upload_time, requires_dist
FROM `bigquery-public-data.pypi.distribution_metadata`
WHERE upload_time >= @since AND EXISTS (
  SELECT 1 FROM UNNEST(requires_dist) AS req
  WHERE LOWER(REGEXP_REPLACE(REGEXP_EXTRACT(req, r'^\s*([A-Za-z0-9][A-Za-z0-9._-]*)'), r'[-_.]+', '-')) IN UNNEST(@projects))
