"""Typed query arguments: a bad value is a 400 naming the argument and what it takes."""

from __future__ import annotations

from tornado import web

from jupyter_qrt.local.store.timestamps import parse_instant

from .errors import APIFailure

__all__ = ["MAX_INTEGER", "QueryArguments"]

MAX_INTEGER = 2**31 - 1
"""Largest integer query argument accepted (offsets beyond any job count are meaningless)."""
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


class QueryArguments:
    """Typed access to a handler's query arguments; a bad value is a 400 naming it."""

    def __init__(self, handler: web.RequestHandler) -> None:
        self._handler = handler

    def text(self, name: str) -> str | None:
        value = self._handler.get_query_argument(name, None)
        return value if value else None

    def _typed(self, name: str) -> str | None:
        # An empty value of a typed argument is a mistake worth saying, not "not given".
        return self._handler.get_query_argument(name, None)

    def integer(
        self, name: str, default: int, *, minimum: int = 0, maximum: int = MAX_INTEGER
    ) -> int:
        value = self._typed(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            number = minimum - 1
        if not minimum <= number <= maximum:
            raise APIFailure(
                400,
                f"The query argument {name}={value!r} must be an integer from {minimum} to "
                f"{maximum}.",
            )
        return number

    def boolean(self, name: str) -> bool | None:
        value = self._typed(name)
        if value is None:
            return None
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise APIFailure(400, f"The query argument {name}={value!r} must be true or false.")

    def timestamp(self, name: str) -> float | None:
        """The argument as a POSIX time (parsed here once; the core takes the number)."""
        value = self._typed(name)
        if value is None:
            return None
        try:
            return parse_instant(value)
        except (ValueError, OverflowError) as exc:
            raise APIFailure(
                400,
                f"The query argument {name}={value!r} is not an ISO 8601 date and time, e.g. "
                "2026-01-31T12:00:00Z.",
            ) from exc

    def texts(self, name: str) -> list[str]:
        return [value for value in self._handler.get_query_arguments(name) if value]
