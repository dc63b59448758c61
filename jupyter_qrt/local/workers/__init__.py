"""Workers: running jobs in processes of their own.

Owns the dispatcher that claims queued jobs (:mod:`.scheduler`), one worker process per slot
(:mod:`.slot`, :mod:`.worker`), the framed messages between them (:mod:`.protocol`) and the
writing of a run's outcome (:mod:`.outcomes`). Killing a worker is how a job is cancelled or
stopped at its maximum execution time.

May import: :mod:`jupyter_qrt.local.execution`, :mod:`jupyter_qrt.local.jobs`,
:mod:`jupyter_qrt.local.devices`, :mod:`jupyter_qrt.local.store` and the wire format of
:mod:`jupyter_qrt.runtime`.
"""
