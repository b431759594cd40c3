WITH clients AS (
  SELECT project, CAST(make_timestamp(epoch_us(timestamp)) AS DATE) AS date, CONCAT(IFNULL(installer, ''), '|', IFNULL(installer_version, ''), '|', IFNULL(python_full, ''), '|', IFNULL(implementation, ''), '|', IFNULL(system, ''), '|', IFNULL(system_release, ''), '|', IFNULL(distro, ''), '|', IFNULL(distro_version, ''), '|', IFNULL(cpu, ''), '|', IFNULL(country, '')) AS fingerprint,
    count(*) AS downloads
  FROM rows
  WHERE timestamp >= $start AND timestamp < $end AND project IS NOT NULL AND project IN (SELECT unnest($projects))
  GROUP BY ALL
), days AS (
  SELECT project, date, count(*) AS fingerprints,
    list_reverse_sort(max(downloads, 100)) AS top
  FROM clients GROUP BY ALL
), cuts AS (
  SELECT project, date, fingerprints, list_min(top) AS cut,
    len(top) - list_position(top, list_min(top)) + 1 AS slots
  FROM days
)
SELECT project, date, fingerprint, downloads, fingerprints
FROM clients JOIN cuts USING (project, date)
WHERE fingerprints <= 100 OR downloads > cut
UNION ALL
SELECT project, date, fingerprint, downloads, fingerprints
FROM clients JOIN cuts USING (project, date)
WHERE fingerprints > 100 AND downloads = cut
QUALIFY row_number() OVER (PARTITION BY project, date ORDER BY fingerprint) <= slots
