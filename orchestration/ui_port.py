"""`make ui`'s port: ITX_UI_PORT (default 3000), refused at once when it is taken.

`dagster dev` itself prints "Serving on :3000", fails to bind, and stays up running sensors
against the warehouse; this check runs first and stops `make ui` with one clear line instead.
"""

import os
import socket
import sys

DEFAULT_UI_PORT = 3000


def check(value: str | None, host: str = "127.0.0.1") -> tuple[int | None, str | None]:
    """(port, None) when the port can be served, else (None, why)."""
    text = (value or "").strip() or str(DEFAULT_UI_PORT)
    if not text.isdigit() or not 0 < int(text) < 65536:
        return None, f"ITX_UI_PORT={text!r} is not a port number (1-65535)"
    port = int(text)
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return None, (
                f"port {port} on {host} is in use (another `make ui`?); choose another: ITX_UI_PORT={port + 1} make ui"
            )
    return port, None


def main() -> int:
    port, why = check(os.environ.get("ITX_UI_PORT"))
    if why:
        print(f"make ui: {why}", file=sys.stderr)
        return 2
    print(f"make ui: the Dagster UI on http://127.0.0.1:{port}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
