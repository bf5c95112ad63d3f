# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's one exception root, and the one place where errors become a module's fail_json.

module_utils raise SwarmopsError (or a subclass) worded for the user, naming the option and the value where there
is one, and never call fail_json; every module runs its work inside `module_errors`, which turns a SwarmopsError,
an error of the Docker SDK or the engine, or an OSError into fail_json. No module chooses what to catch.
Modules that run on nodes import this on Python 3.9+, with or without the Docker SDK.
"""

from __future__ import annotations

import contextlib

try:
    from docker.errors import DockerException
except ImportError:  # pragma: no cover - nodes without the SDK (gluster_volume, storage_driver) never meet one

    class DockerException(Exception):
        """Stands in for the SDK's exception root, so the except clause below still names it; never raised."""


class SwarmopsError(Exception):
    """Anything the collection refuses or cannot do, already worded for the user: the option, the value received
    and what is accepted, or what the node or engine lacks."""


def describe(exc: BaseException) -> str:
    """The engine's own explanation when there is one, not the SDK's HTTP wrapper text."""
    explanation = getattr(exc, "explanation", None)
    if explanation:
        return explanation.decode() if isinstance(explanation, bytes) else str(explanation)
    return str(exc) or type(exc).__name__


def failure_message(exc: BaseException, what: str = "") -> str | None:
    """The fail_json message for an error, prefixed with `what` (the module or the object it acts on);
    None for an error that is not the collection's, the SDK's or the OS's, which stays a traceback (a bug)."""
    prefix = f"{what}: " if what else ""
    if isinstance(exc, SwarmopsError):
        return f"{prefix}{exc}"
    if isinstance(exc, DockerException):
        text = describe(exc)
        if "deadlineexceeded" in text.lower().replace(" ", ""):  # code = DeadlineExceeded, context deadline exceeded
            text += " (the managers did not commit it in time: the swarm has lost its quorum or is electing a leader)"
        return f"{prefix}Docker engine error: {text}"
    if isinstance(exc, OSError):
        return f"{prefix}{exc}"
    return None


@contextlib.contextmanager
def named_errors(what: str):
    """Work on one of several objects a module acts on: its errors become a SwarmopsError prefixed with `what`."""
    try:
        yield
    except (SwarmopsError, DockerException, OSError) as exc:
        raise SwarmopsError(failure_message(exc, what)) from exc


@contextlib.contextmanager
def module_errors(module, what: str = ""):
    """Run a module's work; turn the collection's, the SDK's and the OS's errors into fail_json at its edge."""
    try:
        yield
    except (SwarmopsError, DockerException, OSError) as exc:
        module.fail_json(msg=failure_message(exc, what))
