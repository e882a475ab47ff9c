-- staging_events from one day's NDJSON log in S3: columns by the lake's JSONPaths file
-- (matched by position), epoch-millisecond times. Credentials are bind parameters: an IAM role
-- from the AWS connection (role_arn), or the connection's keys; never part of this text.
copy staging_events
from %(source)s
{{ auth_clause }}
format as json %(jsonpaths)s
timeformat 'epochmillisecs'
region %(region)s
compupdate off
statupdate off
