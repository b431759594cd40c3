SELECT name, version, upload_time, requires_dist
FROM pypi.projects
WHERE upload_time >= toDateTime({since:Date}, 'UTC')
  AND arrayExists(req -> has({projects:Array(String)}, lower(replaceRegexpAll(extract(req, '^\\s*([A-Za-z0-9][A-Za-z0-9._-]*)'), '[-_.]+', '-'))), requires_dist)
