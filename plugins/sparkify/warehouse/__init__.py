"""The warehouse: connections and dialect (connection), the one SQL loader (scripts), the
write-audit-publish lifecycle of a run's schema (wap), and Redshift's COPY (redshift)."""
