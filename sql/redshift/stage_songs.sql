-- staging_songs from the lake's song files: one JSON object per file, columns by field name
-- ('auto'). The source is a manifest of the files new or changed since the published catalog
-- (stage_songs writes it), or without one every file under the song_data/ prefix. Files COPY
-- cannot load go to the quarantine (MAXERROR, then sql/redshift/quarantine_copy_errors.sql).
-- Credentials are bind parameters, as for events.
copy staging_songs
from %(source)s
{{ auth_clause }}
format as json 'auto'
{% if manifest | default(false) %}manifest
{% endif -%}
region %(region)s
maxerror 100000
compupdate off
statupdate off
