SELECT name, version, upload_time, nullIf(packagetype, '') AS packagetype, requires_dist
FROM pypi.projects
WHERE lower(replaceRegexpAll(name, '[-_.]+', '-')) IN {projects:Array(String)}
