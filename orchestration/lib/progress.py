"""How far a long step has gone, told to whoever listens.

The steps (reading release files, loading releases, dbt's nodes) report units of work here;
`itx build` listens and draws a progress bar, and nobody else does, so the steps stay free of
any display code. One listener at a time is enough: one build runs in a process.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

# listener(step, advance, total): total is the step's size when known (repeated is harmless)
Listener = Callable[[str, int, int | None], None]

_listener: Listener | None = None


def report(step: str, advance: int = 1, total: int | None = None) -> None:
    """`advance` units of `step` are done (0 with a `total` announces the step's size)."""
    if _listener is not None:
        _listener(step, advance, total)


@contextlib.contextmanager
def listening(listener: Listener) -> Iterator[None]:
    global _listener
    previous, _listener = _listener, listener
    try:
        yield
    finally:
        _listener = previous
