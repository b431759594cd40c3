SELECT
  project AS project,
  DATE(timestamp) AS date,
  file.version AS version,
  file.type AS file_type,
  details.installer.name AS installer,
  REGEXP_EXTRACT(details.python, r'^[0-9]+\.[0-9]+') AS python,
  details.system.name AS system,
  country_code AS country,
  IFNULL(details.ci, FALSE) AS ci,
  COUNT(*) AS downloads
FROM `bigquery-public-data.pypi.file_downloads`
WHERE timestamp >= @start AND timestamp < @end AND project IN UNNEST(@projects)
GROUP BY project, date, version, file_type, installer, python, system, country, ci
