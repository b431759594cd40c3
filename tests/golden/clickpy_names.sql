SELECT project, sum(count) AS downloads
FROM pypi.pypi_downloads
WHERE project != ''
GROUP BY project
ORDER BY downloads DESC, project
LIMIT 100000
