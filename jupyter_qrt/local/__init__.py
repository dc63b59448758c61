"""The local runtime service of jupyter-qrt: the Qiskit Runtime REST API, offline.

A real HTTP service (tornado) that both our client and the official ``qiskit-ibm-runtime`` client
run jobs against, with IAM tokens, simulated devices and SQLite storage. Start it in-process with
``jupyter_qrt.local.server.LocalService`` or standalone with ``jupyter-qrt serve``; mount it into
another tornado app with ``jupyter_qrt.local.app.service_routes``. Nothing is imported here, so
importing the package stays cheap.
"""
