"""`make ui` refuses a taken or malformed port at once, with one line that says what to do."""

import socket
import subprocess
import sys

from orchestration.ui_port import check


def test_a_free_port_is_served_and_a_taken_one_refused():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        port, why = check(str(taken))
        assert port is None and f"port {taken}" in why and f"ITX_UI_PORT={taken + 1}" in why
        done = subprocess.run(
            [sys.executable, "-m", "orchestration.ui_port"],
            env={"ITX_UI_PORT": str(taken), "PATH": ""},
            capture_output=True,
            text=True,
        )
        assert done.returncode == 2 and "in use" in done.stderr and not done.stdout
    assert check(str(taken)) == (taken, None)  # free again


def test_a_port_that_is_not_a_number_is_refused():
    assert check("http")[0] is None and "not a port number" in check("http")[1]
    assert check("70000")[0] is None
