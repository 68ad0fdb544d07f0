"""Entry point of the frozen ``scythe`` binary: the same CLI as the ``scythe`` console script.

A frozen program has no Python interpreter, yet parts of the app start helper processes as
``sys.executable -m MODULE ...`` (the orchestrator's process backend starts observers with
``-m scythe_desktop observer``; benchmarks start their pumps with ``-m scythe_desktop.bench...``). In the
binary ``sys.executable`` is ``scythe`` itself, so this entry point accepts ``scythe -m MODULE ARGS`` and
runs MODULE as ``__main__``, exactly as ``python -m`` would. ``multiprocessing.freeze_support()`` lets
SB3's ``SubprocVecEnv`` workers (forkserver/spawn) start from the binary. This file knows nothing about
the app beyond ``scythe_desktop.cli.main``.
"""

from __future__ import annotations

import multiprocessing
import runpy
import sys


def _main() -> int:
    multiprocessing.freeze_support()  # a multiprocessing child runs its task here and exits
    if len(sys.argv) >= 3 and sys.argv[1] == "-m":
        module = sys.argv[2]
        sys.argv = [sys.argv[0], *sys.argv[3:]]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return 0
    from scythe_desktop.cli import main

    return main()


if __name__ == "__main__":
    sys.exit(_main())
