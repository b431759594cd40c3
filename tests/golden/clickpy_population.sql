WITH by_installer AS (
  SELECT project, date, nullIf(installer, '') AS installer, sum(count) AS n
  FROM pypi.pypi_downloads_per_day_by_version_by_installer_by_type
  WHERE date >= {start:Date} AND date <= {end:Date}
  GROUP BY project, date, installer
),
by_system AS (
  SELECT project, date, nullIf(system, '') AS system, sum(count) AS n
  FROM pypi.pypi_downloads_per_day_by_version_by_system
  WHERE date >= {start:Date} AND date <= {end:Date}
  GROUP BY project, date, system
),
by_python AS (
  SELECT project, date, nullIf(extract(python_minor, '^[0-9]+\.[0-9]+'), '') AS python, sum(count) AS n
  FROM pypi.pypi_downloads_per_day_by_version_by_python
  WHERE date >= {start:Date} AND date <= {end:Date}
  GROUP BY project, date, python
),
by_country AS (
  SELECT project, date, nullIf(country_code, '') AS country, sum(count) AS n
  FROM pypi.pypi_downloads_per_day_by_version_by_country
  WHERE date >= {start:Date} AND date <= {end:Date}
  GROUP BY project, date, country
),
by_version AS (
  SELECT project, date, nullIf(version, '') AS version, sum(count) AS n
  FROM pypi.pypi_downloads_per_day_by_version
  WHERE date >= {start:Date} AND date <= {end:Date}
  GROUP BY project, date, version
),
installer_counts AS (
  SELECT project, date,
    SUM(CASE WHEN TRUE THEN n ELSE 0 END) AS downloads,
    SUM(CASE WHEN installer IN ('bandersnatch', 'devpi', 'z3c.pypimirror', 'Artifactory', 'Nexus', 'pep381client') THEN n ELSE 0 END) AS mirror_downloads,
    SUM(CASE WHEN installer IN ('pip') THEN n ELSE 0 END) AS pip_downloads,
    SUM(CASE WHEN installer IN ('uv') THEN n ELSE 0 END) AS uv_downloads,
    SUM(CASE WHEN installer IN ('requests', 'Browser', 'curl', 'wget', 'aiohttp', 'httpx', 'urllib3', 'OS') THEN n ELSE 0 END) AS bot_downloads,
    SUM(CASE WHEN installer IS NULL THEN n ELSE 0 END) AS no_installer_downloads
  FROM by_installer GROUP BY project, date
),
system_counts AS (
  SELECT project, date,
    SUM(CASE WHEN system IN ('Darwin', 'Windows') THEN n ELSE 0 END) AS desktop_downloads,
    SUM(CASE WHEN system = 'Linux' THEN n ELSE 0 END) AS linux_downloads
  FROM by_system GROUP BY project, date
),
python_counts AS (
  SELECT project, date,
    SUM(CASE WHEN python IS NULL THEN n ELSE 0 END) AS no_python_downloads
  FROM by_python GROUP BY project, date
),
countries AS (
  SELECT project, date, COUNT(*) AS countries,
    SUM(n * n) / (SUM(n) * SUM(n)) AS country_hhi,
    argMin(IFNULL(country, ''), (-n, IFNULL(country, ''))) AS top_country,
    MAX(n) AS top_country_downloads
  FROM by_country GROUP BY project, date
),
pythons AS (
  SELECT project, date, COUNT(python) AS pythons,
    IFNULL(MAX(CASE WHEN python IS NOT NULL THEN n END), 0) AS top_python_downloads
  FROM by_python GROUP BY project, date
),
versions AS (
  SELECT project, date, COUNT(*) AS versions,
    MAX(n) AS top_version_downloads
  FROM by_version GROUP BY project, date
)
SELECT project, date, downloads, mirror_downloads, NULL AS ci_downloads, pip_downloads, uv_downloads, bot_downloads, no_installer_downloads, desktop_downloads, linux_downloads, no_python_downloads, pythons, top_python_downloads, countries, country_hhi, NULLIF(top_country, '') AS top_country, top_country_downloads, versions, top_version_downloads
FROM installer_counts
LEFT JOIN system_counts USING (project, date)
LEFT JOIN python_counts USING (project, date)
LEFT JOIN countries USING (project, date)
LEFT JOIN pythons USING (project, date)
LEFT JOIN versions USING (project, date)
