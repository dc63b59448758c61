"""Storage: the service's SQLite database under its data dir.

Owns the schema and its migrations, the connection discipline (one writer, WAL readers, a
transaction helper that always rolls back on error), the data dir's lock (:mod:`.database`),
timestamps in the IBM format (:mod:`.timestamps`) and the usage-limit rule every part reads
(:mod:`.usage`).

May import: :mod:`jupyter_qrt.local.service_error` and the standard library only.
"""
