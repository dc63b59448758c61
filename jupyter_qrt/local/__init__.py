"""The local runtime service of jupyter-qrt: the Qiskit Runtime REST API, offline.

A real HTTP service (tornado) that both our client and the official ``qiskit-ibm-runtime`` client
run jobs against, with IAM tokens, simulated devices and SQLite storage. Start it in-process with
``jupyter_qrt.local.server.LocalService`` or standalone with ``jupyter-qrt serve``
(:mod:`.cli`); mount it into another tornado app with
``jupyter_qrt.local.http.app.service_routes``.

Parts, bottom up (each subpackage's docstring says what it owns and may import):
``service_error`` and ``job_reasons`` (the error codes the service answers with); ``store``
(SQLite, timestamps, the usage rule); ``devices`` (the simulated devices and their JSON);
``identity`` (keys, instances, IAM tokens, Global Search/Catalog); ``jobs`` (requests, the queue,
sessions, views); ``execution`` (running a program on a device with qiskit-aer); ``workers``
(worker processes and the dispatcher); ``core`` (:class:`~.core.LocalRuntime`, the service
without HTTP); ``http`` (the REST routes); ``server`` and ``cli`` (ways to run it).

Nothing is imported here, so importing the package stays cheap.
"""
