WITH per_client AS (
  SELECT project, DATE(timestamp) AS date, CONCAT(IFNULL(details.installer.name, ''), '|', IFNULL(details.installer.version, ''), '|', IFNULL(details.python, ''), '|', IFNULL(details.implementation.name, ''), '|', IFNULL(details.system.name, ''), '|', IFNULL(details.system.release, ''), '|', IFNULL(details.distro.name, ''), '|', IFNULL(details.distro.version, ''), '|', IFNULL(details.cpu, ''), '|', IFNULL(country_code, '')) AS fingerprint,
    COUNT(*) AS downloads
  FROM `bigquery-public-data.pypi.file_downloads`
  WHERE timestamp >= @start AND timestamp < @end AND project IN UNNEST(@projects)
  GROUP BY project, date, fingerprint
), ranked AS (
  SELECT project, date, fingerprint, downloads,
    COUNT(*) OVER (PARTITION BY project, date) AS fingerprints,
    ROW_NUMBER() OVER (PARTITION BY project, date
      ORDER BY downloads DESC, fingerprint) AS client_rank
  FROM per_client
)
SELECT project, date, fingerprint, downloads, fingerprints
FROM ranked
WHERE client_rank <= 100
