-- staging_events from one day's NDJSON log in S3: columns by the lake's JSONPaths file
-- (matched by position), epoch-millisecond times. Lines COPY cannot load do not stop it
-- (MAXERROR): sql/redshift/quarantine_copy_errors.sql moves them into the run's quarantine. Credentials are bind parameters: an IAM role
-- from the AWS connection (role_arn), or the connection's keys; never part of this text.
copy staging_events
from %(source)s
{{ auth_clause }}
format as json %(jsonpaths)s
timeformat 'epochmillisecs'
region %(region)s
maxerror 100000
compupdate off
statupdate off
