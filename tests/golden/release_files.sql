SELECT name, version, upload_time, packagetype, requires_dist
FROM `bigquery-public-data.pypi.distribution_metadata`
WHERE LOWER(REGEXP_REPLACE(name, r'[-_.]+', '-')) IN UNNEST(@projects)
