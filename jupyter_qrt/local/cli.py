"""``jupyter-qrt``: run the local runtime service, manage its keys and instances.

In the background, in a shell (``bash``, ``zsh``, ``sh``), the clients pointed at it::

    rm -f qrt.env
    jupyter-qrt serve --env-file qrt.env & QRT_PID=$!
    until [ -s qrt.env ] || ! kill -0 "$QRT_PID" 2>/dev/null; do sleep 0.2; done
    . ./qrt.env    # QISKIT_IBM_URL, QISKIT_IBM_TOKEN, ...: the clients need no arguments
    jupyter lab    # or python, ...: anything started from this shell
    kill "$QRT_PID"    # stops the service and removes qrt.env

Keys and instances (a service may be running on the same data dir meanwhile)::

    jupyter-qrt instances create class-a --plan open --limit 3600
    jupyter-qrt keys create --instance class-a --name student-1
    jupyter-qrt keys list
    jupyter-qrt instances set-limit crn:v1:...:: 7200
    jupyter-qrt instances reset-usage class-a      # a new term: the used seconds start again

``serve`` prints ``export NAME=value`` lines (``QISKIT_IBM_URL``, ``QISKIT_IBM_TOKEN``,
``QISKIT_IBM_INSTANCE``, ``QISKIT_IBM_CHANNEL``, ``IAM_URL``, ``GLOBAL_SEARCH_URL``,
``GLOBAL_CATALOG_URL``, ``NO_PROXY``/``no_proxy``) once it serves, and serves until SIGINT or
SIGTERM. With ``--env-file PATH`` it writes them to that file instead (whole, at once, readable
by its owner only: it holds the key) and removes the file when it stops. (``eval "$(jupyter-qrt
serve &)"`` would never return: the command substitution waits for the server's stdout to
close.) Every error is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import shlex
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, TextIO

from jupyter_qrt.runtime.redact import mask_secret

from .env_file import EnvFile
from .identity.keys import key_id_of
from .identity.records import InstanceInfo
from .server import CATALOG_CHOICES, LocalService, ServiceStartError, default_data_dir
from .service_error import ServiceError
from .store.database import StoreError
from .workers.pacing import Pacing, pacing_spec

if TYPE_CHECKING:
    from .core import LocalRuntime

__all__ = ["main"]

logger = logging.getLogger(__name__)

SERVE_RECIPE = """\
    rm -f qrt.env
    jupyter-qrt serve --env-file qrt.env & QRT_PID=$!
    until [ -s qrt.env ] || ! kill -0 "$QRT_PID" 2>/dev/null; do sleep 0.2; done
    . ./qrt.env    # QISKIT_IBM_URL, QISKIT_IBM_TOKEN, ...: the clients need no arguments
    jupyter lab    # or python, ...: anything started from this shell
    kill "$QRT_PID"    # stops the service and removes qrt.env
"""
"""The shell lines that run the service in the background (shown in the module docstring and
``serve --help``; a test runs them)."""

EXIT_ERROR = 2
_PROG = "jupyter-qrt"


class CLIError(Exception):
    """A problem to report on one line of stderr."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="The jupyter-qrt local runtime service: the Qiskit Runtime API, offline.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    def data_dir_option(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--data-dir",
            type=Path,
            default=None,
            help="where jobs, keys and instances are stored "
            f"(default: $QRT_DATA_DIR or {default_data_dir({})})",
        )

    serve = commands.add_parser(
        "serve",
        help="run the service; prints 'export' lines for the clients",
        description="Run the local runtime service until SIGINT or SIGTERM. Once it serves, the "
        "'export' lines that point the clients at it are printed (or written to --env-file).",
        epilog="In the background, from a shell:\n\n" + SERVE_RECIPE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (default)")
    data_dir_option(serve)
    serve.add_argument(
        "--catalog", choices=CATALOG_CHOICES, default="builtin", help="devices served (builtin)"
    )
    serve.add_argument("--workers", type=int, default=2, help="worker processes running jobs")
    serve.add_argument(
        "--worker-memory-mb",
        type=int,
        default=None,
        metavar="MIB",
        help="memory one job may use, in MiB; 0 for no limit (default: $QRT_WORKER_MEMORY_MB, "
        "else 3/4 of the machine's memory shared by the workers)",
    )
    serve.add_argument(
        "--pacing",
        action="append",
        type=pacing_spec,
        metavar="[DEVICE=]FACTOR",
        help="hold each job on its device for FACTOR x its device time (1 = real time), one at a "
        "time, so jobs are seen Queued and Running; repeatable per device (off by default)",
    )
    serve.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host (the service becomes reachable from other machines); "
        "needs --certfile",
    )
    serve.add_argument(
        "--certfile",
        type=Path,
        default=None,
        help="serve HTTPS with this PEM certificate (required with --allow-remote); clients "
        "must trust it, e.g. REQUESTS_CA_BUNDLE=cert.pem for a self-signed one",
    )
    serve.add_argument(
        "--keyfile",
        type=Path,
        default=None,
        help="PEM file of the certificate's private key, unencrypted (default: in --certfile)",
    )
    serve.add_argument(
        "--env-file",
        type=Path,
        default=None,
        help="write the 'export' lines to this file once serving, not to stdout (mode 0600; "
        "removed when the service stops)",
    )
    serve.add_argument("--log-level", default="WARNING", help="logging level on stderr")

    keys = commands.add_parser("keys", help="list, create or revoke API keys")
    key_commands = keys.add_subparsers(dest="action", metavar="ACTION")
    key_commands.required = True
    data_dir_option(key_commands.add_parser("list", help="list the keys (never the secrets)"))
    create_key = key_commands.add_parser("create", help="create a key (printed once)")
    create_key.add_argument("--instance", required=True, help="instance CRN or name")
    create_key.add_argument("--name", required=True, help="a unique name for the key")
    data_dir_option(create_key)
    revoke_key = key_commands.add_parser("revoke", help="revoke a key by id or name")
    revoke_key.add_argument("key", help="key id or name (or the key itself)")
    data_dir_option(revoke_key)

    instances = commands.add_parser("instances", help="list or create instances, set limits")
    instance_commands = instances.add_subparsers(dest="action", metavar="ACTION")
    instance_commands.required = True
    data_dir_option(instance_commands.add_parser("list", help="list the instances and usage"))
    create_instance = instance_commands.add_parser("create", help="create an instance")
    create_instance.add_argument("name", help="a unique instance name")
    create_instance.add_argument("--plan", default="open", help="plan name (open)")
    create_instance.add_argument(
        "--limit", type=_seconds, default=None, help="usage limit in seconds (none)"
    )
    data_dir_option(create_instance)
    set_limit = instance_commands.add_parser("set-limit", help="set an instance's usage limit")
    set_limit.add_argument("instance", help="instance CRN or name")
    set_limit.add_argument("seconds", type=_seconds, help="seconds, or 'none' for no limit")
    data_dir_option(set_limit)
    reset_usage = instance_commands.add_parser(
        "reset-usage",
        help="set an instance's used seconds back to 0 (e.g. a new term); held jobs run again",
    )
    reset_usage.add_argument("instance", help="instance CRN or name")
    data_dir_option(reset_usage)
    return parser


def _seconds(text: str) -> float | None:
    if text.strip().lower() in {"none", "unlimited"}:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds >= 0 (or 'none')")
    return value


# -- serve ---------------------------------------------------------------------------------------


def _serve(args: argparse.Namespace, out: TextIO) -> int:
    logging.basicConfig(
        level=str(args.log_level).upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    env_file: Path | None = args.env_file
    if env_file is not None:
        _check_env_file(env_file)
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    written: EnvFile | None = None
    try:
        service = LocalService(
            args.data_dir if args.data_dir is not None else default_data_dir(),
            host=args.host,
            port=args.port,
            catalog=args.catalog,
            workers=args.workers,
            worker_memory_mb=args.worker_memory_mb,
            pacing=Pacing.parse(args.pacing or []),
            allow_remote=args.allow_remote,
            certfile=args.certfile,
            keyfile=args.keyfile,
        )
        with service:
            lines = "".join(
                f"export {name}={shlex.quote(value)}\n" for name, value in service.env().items()
            )
            if env_file is None:
                out.write(lines)
                out.flush()
            else:
                written = EnvFile.write(env_file, lines)
                print(
                    f"{_PROG}: serving at {service.url} (pid {os.getpid()}); the environment is "
                    f"in {env_file}",
                    file=sys.stderr,
                )
            # A signal handler only sets the event; waiting in slices keeps the main thread
            # responsive to it on every platform.
            while not stop.wait(0.5):
                pass
            logger.info("Stopping the local runtime service")
    finally:
        if written is not None:
            written.remove()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def _check_env_file(path: Path) -> None:
    """Refuse an ``--env-file`` that cannot be written, before anything starts."""
    if path.is_dir():
        raise CLIError(f"--env-file {path} is a directory; give a file name, e.g. {path}/qrt.env.")
    parent = path.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise CLIError(
            f"Cannot write --env-file {path}: {parent} is not a writable directory. Give a file "
            "in a directory of yours."
        )


# -- keys and instances --------------------------------------------------------------------------


@contextmanager
def _runtime(data_dir: Path | None, *, create: bool) -> Iterator[LocalRuntime]:
    """The core on a data dir, for its keys and instances: the database only.

    ``start(run_jobs=False)`` takes no service lock, recovers no jobs and starts no workers, so a
    service may be running on the same data dir meanwhile: SQLite serialises the writes. Only
    ``create`` commands make a new data dir (to prepare a classroom before the first ``serve``);
    the others refuse a missing one, so a mistyped ``--data-dir`` leaves nothing behind.
    """
    from .core import LocalRuntime

    directory = data_dir if data_dir is not None else default_data_dir()
    if not create and not directory.is_dir():
        raise CLIError(
            f"No local service data in {directory}. `jupyter-qrt serve --data-dir {directory}` "
            "creates it, with a default instance and key."
        )
    runtime = LocalRuntime(directory)
    runtime.start(run_jobs=False)
    try:
        yield runtime
    finally:
        runtime.stop()


def _instance(runtime: LocalRuntime, crn_or_name: str) -> InstanceInfo:
    for lookup in (runtime.instance, runtime.instance_by_name):
        try:
            return lookup(crn_or_name)
        except ServiceError as exc:
            if exc.status != 404:
                raise
    names = ", ".join(info.name for info in runtime.list_instances())
    raise CLIError(f"No instance has the CRN or name {crn_or_name!r}. Instances: {names}.")


def _limit_text(seconds: float | None) -> str:
    return "none" if seconds is None else f"{seconds:g}s"


def _keys(args: argparse.Namespace, out: TextIO) -> int:
    with _runtime(args.data_dir, create=args.action == "create") as runtime:
        if args.action == "list":
            names = {info.crn: info.name for info in runtime.list_instances()}
            rows = [("KEY ID", "NAME", "INSTANCE", "USER")]
            rows += [
                (key.key_id, key.name, names.get(key.instance_crn, key.instance_crn), key.user_id)
                for key in runtime.list_keys()
            ]
            _write_table(rows, out)
        elif args.action == "create":
            crn = _instance(runtime, args.instance).crn
            key = runtime.create_key(crn, args.name)
            out.write(f"{key}\n")
            print(
                f"Created key {args.name!r} for {crn}. It is shown only now: keep it secret.",
                file=sys.stderr,
            )
        else:
            runtime.revoke_key(args.key)
            # A whole key may be given (for its id): it is never shown back.
            shown = mask_secret(args.key) if key_id_of(args.key) is not None else repr(args.key)
            print(f"Revoked key {shown}.", file=sys.stderr)
    return 0


def _instances(args: argparse.Namespace, out: TextIO) -> int:
    with _runtime(args.data_dir, create=args.action == "create") as runtime:
        if args.action == "list":
            rows = [("NAME", "PLAN", "LIMIT", "USED", "CRN")]
            for info in runtime.list_instances():
                used = runtime.usage(info.crn).get("usage_consumed_seconds", 0)
                rows.append(
                    (
                        info.name,
                        info.plan,
                        _limit_text(info.usage_limit_seconds),
                        f"{used:g}s",
                        info.crn,
                    )
                )
            _write_table(rows, out)
        elif args.action == "create":
            info = runtime.create_instance(
                args.name, plan=args.plan, usage_limit_seconds=args.limit
            )
            out.write(f"{info.crn}\n")
        elif args.action == "set-limit":
            crn = _instance(runtime, args.instance).crn
            info = runtime.set_usage_limit(crn, args.seconds)
            out.write(f"{info.name}: usage limit {_limit_text(info.usage_limit_seconds)}\n")
        else:
            info = runtime.reset_usage(_instance(runtime, args.instance).crn)
            out.write(
                f"{info.name}: usage reset to 0s (limit {_limit_text(info.usage_limit_seconds)})\n"
            )
    return 0


def _write_table(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)]
        out.write("  ".join(cells).rstrip() + "\n")


# -- entry point ---------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``jupyter-qrt``; returns the exit status (0, or 2 after a one-line error)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args, sys.stdout)
        if args.command == "keys":
            return _keys(args, sys.stdout)
        return _instances(args, sys.stdout)
    except ServiceError as exc:
        message = exc.message
    except (CLIError, ServiceStartError, StoreError, ValueError, OSError) as exc:
        message = str(exc)
    except Exception as exc:  # a traceback helps no one at a shell prompt; the log keeps it
        logger.debug("jupyter-qrt failed", exc_info=True)
        message = f"{type(exc).__name__}: {exc}. Run with --log-level DEBUG for details."
    print(f"{_PROG}: error: {message}", file=sys.stderr)
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
