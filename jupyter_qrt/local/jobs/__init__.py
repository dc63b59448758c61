"""Jobs: what was asked for, where it waits, and what the service answers about it.

Owns the validation of a job request (:mod:`.request`), the job table and its lifecycle
(:mod:`.registry`), the FIFO queue per device and its claim rule (:mod:`.queue`), sessions and
batches (:mod:`.sessions`) and the JSON views of jobs and sessions (:mod:`.views`).

May import: :mod:`jupyter_qrt.local.identity`, :mod:`jupyter_qrt.local.store`,
:mod:`jupyter_qrt.local.service_error`, :mod:`jupyter_qrt.local.job_reasons`. It never runs a
job: :mod:`jupyter_qrt.local.workers` does.
"""
