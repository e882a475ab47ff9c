"""The warehouse: ``connection`` (connections and dialect), ``scripts`` (the one SQL loader), ``wap``
(the write-audit-publish lifecycle of a run's schema). Redshift's COPY is staging's."""
