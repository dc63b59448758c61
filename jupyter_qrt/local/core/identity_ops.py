"""The identity operations of :class:`~.runtime.LocalRuntime`: keys, instances and usage."""

from __future__ import annotations

from typing import Any

from jupyter_qrt.local.identity.records import InstanceInfo, KeyInfo
from jupyter_qrt.local.identity.registry import IdentityRegistry

__all__ = ["IdentityOperations"]


class IdentityOperations:
    """Keys, instances and usage of the local service (mixed into ``LocalRuntime``)."""

    _identity: IdentityRegistry
    _default_key: str | None
    _default_instance: InstanceInfo | None

    def _wake(self) -> None:
        """Wake the scheduler (jobs held back by a usage limit may run now)."""
        raise NotImplementedError

    @property
    def default_key(self) -> str:
        """The out-of-the-box API key (kept in ``<data_dir>/default-key``, mode 0600)."""
        if self._default_key is None:
            raise RuntimeError("The local runtime is not started: call start() first.")
        return self._default_key

    @property
    def default_instance(self) -> InstanceInfo:
        """The out-of-the-box instance, bound to :attr:`default_key`."""
        if self._default_instance is None:
            raise RuntimeError("The local runtime is not started: call start() first.")
        return self._default_instance

    def verify_api_key(self, api_key: str) -> KeyInfo | None:
        """What the key is bound to, or None for an unknown or revoked key."""
        return self._identity.verify(api_key)

    def create_key(self, instance_crn: str, name: str, *, user_id: str | None = None) -> str:
        """Create a key for the instance; the key is returned once and stored only as a hash.

        ``user_id`` defaults to the key's name.
        """
        return self._identity.create_key(instance_crn, name, user_id=user_id)

    def list_keys(self) -> list[KeyInfo]:
        """Every key's binding (never the keys)."""
        return self._identity.list_keys()

    def key_exists(self, key_id: str) -> bool:
        """Whether the key of that id exists (is not revoked); one indexed lookup."""
        return self._identity.key_exists(key_id)

    def revoke_key(self, key_id_or_name: str) -> None:
        """Revoke a key by id or name (404 if unknown, 409 for the default key)."""
        self._identity.revoke_key(key_id_or_name)

    def create_instance(
        self, name: str, plan: str = "open", usage_limit_seconds: float | None = None
    ) -> InstanceInfo:
        """Create an instance (409 if the name is taken)."""
        return self._identity.create_instance(name, plan, usage_limit_seconds)

    def list_instances(self) -> list[InstanceInfo]:
        """Every instance, oldest first."""
        return self._identity.list_instances()

    def instance(self, crn: str) -> InstanceInfo:
        """The instance of that CRN (404 if unknown)."""
        return self._identity.instance(crn)

    def instance_by_name(self, name: str) -> InstanceInfo:
        """The instance of that name (404 if unknown)."""
        return self._identity.instance_by_name(name)

    def set_usage_limit(self, crn: str, seconds: float | None) -> InstanceInfo:
        """Set the instance's usage limit in seconds (None: no limit)."""
        info = self._identity.set_usage_limit(crn, seconds)
        self._wake()  # jobs held back by the old limit may run now
        return info

    def reset_usage(self, crn: str) -> InstanceInfo:
        """Forget the usage the instance has consumed (e.g. a new term); held jobs may run."""
        info = self._identity.reset_usage(crn)
        self._wake()
        return info

    def usage(self, crn: str) -> dict[str, Any]:
        """The ``GET /instances/usage`` body."""
        return self._identity.usage(crn)
