"""The Jupyter server extension of jupyter-qrt: the one place that holds API keys.

Parts (each module's docstring says what it owns):

- :mod:`.app`: :class:`~.app.QRTExtension`, the ``ExtensionApp``: configuration traits
  (``c.QRTExtension.*``), start-up (kernel environment, classroom keys taken out of the
  environment, the embedded local service started in the background) and shutdown;
- :mod:`.callers`: who is calling (a Jupyter user, a kernel with the kernel token, a client with
  a proxy bearer) and what each may open; the base handler every route uses;
- :mod:`.vault`: accounts (the accounts file shared with qiskit-ibm-runtime, read-only classroom
  accounts, the embedded ``local`` account); :mod:`.accounts_routes` serves them;
- :mod:`.upstream`: an account's upstream URLs and bearer (IAM exchange and cache, host
  allowlist); :mod:`.proxy`: the runtime proxy; :mod:`.iam`: the IAM route kernels use;
- :mod:`.embedded`: the embedded local runtime service; :mod:`.watcher`: the shared job watcher;
- :mod:`.guard`: the pre-save hook that keeps keys out of saved files;
- :mod:`.routes`: the route table; ``openapi.json``: its description.

May import: :mod:`jupyter_qrt.runtime`, :mod:`jupyter_qrt.local`, jupyter_server, tornado,
traitlets. Never :mod:`jupyter_qrt.kernel` (kernels may run where jupyter_server is absent).
"""
