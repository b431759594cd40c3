SELECT
  project AS project,
  date AS date,
  nullIf(version, '') AS version,
  nullIf(type, '') AS file_type,
  nullIf(installer, '') AS installer,
  nullIf(extract(python_minor, '^[0-9]+\.[0-9]+'), '') AS python,
  nullIf(system, '') AS system,
  nullIf(country_code, '') AS country,
  CAST(NULL AS Nullable(Bool)) AS ci,
  count() AS downloads
FROM pypi.pypi
WHERE project IN {projects:Array(String)} AND date >= {start:Date} AND date <= {end:Date}
GROUP BY project, date, version, file_type, installer, python, system, country, ci
