"""The console's refusals before any window: no OpenGL library, no display. One line each, exit 2.

"No OpenGL" is produced for real in a child process: every ``ctypes`` load of a GL library fails there the
way it does on a machine without Mesa (``OSError: libGL.so.1: cannot open shared object file``), so
PyOpenGL's own loader and VisPy's backend selection run unchanged; the frozen binary's loader error has the
same shape. No system library is touched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

NO_GL = """
import ctypes, sys
real_init = ctypes.CDLL.__init__

def refuse_gl(self, name, *args, **kwargs):
    base = str(name).rsplit("/", 1)[-1]
    if base.startswith(("libGL", "libOpenGL", "libEGL")) or base in ("GL", "OpenGL"):
        raise OSError(f"{name}: cannot open shared object file: No such file or directory")
    return real_init(self, name, *args, **kwargs)

ctypes.CDLL.__init__ = refuse_gl
from scythe_desktop.cli import main
sys.argv = ["scythe", *sys.argv[1:]]
sys.exit(main())
"""


@pytest.mark.parametrize("extra", [[], ["--screenshot", "never.png"]])
def test_without_an_opengl_library_the_console_says_so_in_one_line(tmp_path: Path, extra: list[str]) -> None:
    env = {**os.environ, "DISPLAY": ":4242"}  # the refusal comes before any connection to it
    env.pop("PYOPENGL_PLATFORM", None)
    out = subprocess.run([sys.executable, "-c", NO_GL, "--policy", "none", *extra], capture_output=True,
                         text=True, timeout=120, env=env, cwd=tmp_path)
    assert out.returncode == 2, out.stderr[-3000:]
    lines = out.stderr.strip().splitlines()
    assert lines == ["scythe: OpenGL is not available (libGL.so.1 not found); install Mesa (libgl1 "
                     "libgl1-mesa-dri) or a GPU driver"], out.stderr[-3000:]
    assert not (tmp_path / "never.png").exists()


def _no_display_hint(argv: list[str], prelude: str = "") -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    code = f"import sys\n{prelude}\nfrom scythe_desktop.cli import main\nsys.argv = {argv!r}\nsys.exit(main())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr
    return lines[0]


def test_the_no_display_hint_names_the_program_as_it_was_started() -> None:
    assert _no_display_hint(["/opt/scythe/bin/scythe"]).endswith("xvfb-run -a /opt/scythe/bin/scythe")
    main_py = str(Path("scythe_desktop") / "__main__.py")
    assert _no_display_hint([main_py]).endswith(f"xvfb-run -a {sys.executable} -m scythe_desktop")
    # In the frozen binary sys.executable is the binary itself, whatever argv[0] says.
    frozen = "sys.frozen = True\nsys.executable = '/home/op/scythe/scythe'"
    assert _no_display_hint(["scythe"], frozen).endswith("xvfb-run -a /home/op/scythe/scythe")
    assert ".venv" not in _no_display_hint(["scythe"], frozen)
