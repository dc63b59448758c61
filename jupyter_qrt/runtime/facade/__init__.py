"""The facade: what a user of the client holds.

Owns :class:`~.service.RuntimeService` (accounts + HTTP + backends put together), the primitives
:class:`~.primitives.Sampler` and :class:`~.primitives.Estimator`, the
:class:`~.executor.Executor` of samplomatic quantum programs, :class:`~.job.Job` and its
:class:`~.job_status.JobStatus`, and :class:`~.session.Session` / :class:`~.session.Batch`.
Users import these names from :mod:`jupyter_qrt.runtime`.

May import every other part of :mod:`jupyter_qrt.runtime`; nothing in the runtime imports it.
"""
