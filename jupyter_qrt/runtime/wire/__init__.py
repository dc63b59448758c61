"""The wire format: what a job body and a result look like on the wire.

Owns the encoding of pubs and options into a job's ``params`` (:mod:`.encoding`, :mod:`.pubs`,
:mod:`.options`, :mod:`.primitive_options`), identical to qiskit-ibm-runtime's ``RuntimeEncoder``,
and the decoding of results into real ``qiskit.primitives`` objects (:mod:`.decoding`,
:mod:`.result_types`, :mod:`.npy`); the executor program's ``params`` from a samplomatic
``QuantumProgram`` and its results (:mod:`.program`, :mod:`.program_result`), through IBM's
schema models (ibm-quantum-schemas).

May import: :mod:`jupyter_qrt.runtime.errors`, numpy, qiskit; samplomatic, ibm_quantum_schemas
and pydantic in :mod:`.program` and :mod:`.program_result` (pydantic also lazily in
:mod:`.option_checks`). It knows no HTTP and no account.
"""
