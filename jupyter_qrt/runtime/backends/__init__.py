"""Backends as qiskit objects.

Owns the parsing of a backend's configuration and properties JSON into a calibration
(:mod:`.calibration`), a transpiler ``Target`` (:mod:`.target`), the ``BackendV2`` the user holds
(:mod:`.backend`) and the ISA check that runs before a job is sent (:mod:`.isa`).

May import: :mod:`jupyter_qrt.runtime.errors`, qiskit. A backend keeps a reference to the
service it came from, but never imports the facade that builds it.
"""
