-- staging_songs from every song file under the lake's song_data/ prefix: one JSON object per
-- file, columns by field name ('auto'). Files COPY cannot load go to the quarantine
-- (MAXERROR, then sql/redshift/quarantine_copy_errors.sql). Credentials are bind parameters, as for events.
copy staging_songs
from %(source)s
{{ auth_clause }}
format as json 'auto'
region %(region)s
maxerror 100000
compupdate off
statupdate off
