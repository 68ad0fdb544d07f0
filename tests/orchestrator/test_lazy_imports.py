"""The embedded orchestrator's import path stays free of torch and scipy (seconds of start-up each).

The console imports ``scythe_desktop.orchestrator.server`` on its way to the first frame; torch is needed only by
the volume fields and the PPO policy, scipy only by later work, so neither may be imported with it. Each
check runs in a fresh interpreter, because this test process has imported both long ago.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("torch", "scipy", "stable_baselines3")


@pytest.mark.parametrize("module", ["scythe_desktop.orchestrator.server", "scythe_desktop.engine.fields"])
def test_importing_does_not_import_torch_or_scipy(module: str) -> None:
    code = f"import sys, {module}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split() == [], f"importing {module} imported {out.stdout.strip()}"


def test_fields_import_torch_when_a_volume_is_computed() -> None:
    code = (
        "import sys, numpy as np\n"
        "from scythe_desktop.engine import fields\n"
        "v = fields.volume_gaussian(np.zeros((1, 3), np.float32), np.ones(1, np.float32), 8)\n"
        "print(v.shape, 'torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split() == ["(8,", "8,", "8)", "True"]
