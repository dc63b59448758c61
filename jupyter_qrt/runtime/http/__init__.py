"""HTTP: talking to the service.

Owns IAM bearer tokens (:mod:`.auth`), the one ``requests`` session with timeouts and safe retries
(:mod:`.transport`, :mod:`.retry`), the mapping of service errors to our error tree
(:mod:`.error_mapping`), one method per REST endpoint (:mod:`.rest`) and instances from IBM Cloud
Global Search/Catalog (:mod:`.platform`), the jupyter-qrt server's account list for kernels
(:mod:`.jupyter`).

May import: :mod:`jupyter_qrt.runtime.accounts`, :mod:`~jupyter_qrt.runtime.errors`,
:mod:`~jupyter_qrt.runtime.redact`. Never qiskit: it moves JSON, not circuits.
"""
