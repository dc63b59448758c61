"""Identity: who may call the service, and on whose instance.

Owns API keys, instances and their usage limits (:mod:`.registry`), IAM bearer tokens signed
and checked as JWTs (:mod:`.iam`), and the IBM Cloud Global Search/Catalog view of instances
(:mod:`.cloud`).

May import: :mod:`jupyter_qrt.local.store`, :mod:`jupyter_qrt.local.service_error`,
:mod:`jupyter_qrt.runtime.accounts`, :mod:`jupyter_qrt.runtime.errors` and
:mod:`jupyter_qrt.runtime.redact`.
"""
