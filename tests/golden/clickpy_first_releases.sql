SELECT lower(replaceRegexpAll(name, '[-_.]+', '-')) AS project, min(upload_time) AS first_upload
FROM pypi.projects
GROUP BY project
