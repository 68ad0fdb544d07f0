"""An X display for GL work on a headless machine: this process's ``DISPLAY``, or a private Xvfb.

:func:`x_display` is the one place that starts an X server: ``scythe --screenshot`` without a display and the
GL benchmarks use it. The private server is exported as ``DISPLAY`` for its lifetime, so child processes
(which own their Qt application, and so must not outlive the server) see it too; the environment is
restored when it stops. Needs the ``Xvfb`` binary (``apt-get install xvfb``), no Python package.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator


@contextlib.contextmanager
def x_display(size: tuple[int, int] = (1920, 1200)) -> Iterator[str]:
    """Yield the display to use (``":N"``); raises OSError when no display exists and Xvfb cannot start."""
    current = os.environ.get("DISPLAY")
    if current:
        yield current
        return
    binary = shutil.which("Xvfb")
    if binary is None:
        raise OSError("no Xvfb binary on PATH (apt-get install xvfb)")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [binary, "-displayfd", str(write_fd), "-screen", "0", f"{size[0]}x{size[1]}x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as chosen:  # Xvfb writes the display number it took, once it accepts clients
        number = chosen.readline().strip()
    if not number:
        proc.kill()
        proc.wait()
        raise OSError(f"Xvfb exited with status {proc.poll()} before it took a display")
    display = f":{number}"
    os.environ["DISPLAY"] = display
    try:
        yield display
    finally:
        os.environ.pop("DISPLAY", None)
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


__all__ = ["x_display"]
