"""packaging/check_modules.py: the bundle's module list may hold the product only, and the package is that."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import scythe_desktop

CHECK = Path(__file__).resolve().parents[2] / "packaging" / "check_modules.py"


def _check(tmp_path: Path, modules: list[str], *flags: str) -> subprocess.CompletedProcess[str]:
    listing = tmp_path / "package-modules.txt"
    listing.write_text("\n".join(modules) + "\n")
    return subprocess.run([sys.executable, str(CHECK), *flags, str(listing)], capture_output=True, text=True,
                          timeout=60, check=False)


def test_harnesses_oracles_and_dev_tools_are_refused_by_name(tmp_path: Path) -> None:
    bad = ["benchmarks.reliability.rel_fuzz", "scythe_desktop.bench.rel_soak", "scythe_desktop.bench.reliability",
           "tests.core.reference", "scythe_desktop.core.reference", "scythe_desktop.net.codegen", "codegen",
           "grpc_tools.protoc", "pytest", "hypothesis.strategies"]
    done = _check(tmp_path, ["scythe_desktop.cli", *bad, "numpy"])
    assert done.returncode == 1
    for name in bad:
        assert name in done.stderr


def test_every_module_of_the_package_is_the_product(tmp_path: Path) -> None:
    modules = [m.name for m in pkgutil.walk_packages(scythe_desktop.__path__, "scythe_desktop.")]
    assert "scythe_desktop.cli.bench" in modules and "scythe_desktop.recording.replay" in modules
    done = _check(tmp_path, ["scythe_desktop", *modules])
    assert done.returncode == 0, done.stderr


def test_ray_is_never_in_a_bundle_and_torch_never_in_the_field_build(tmp_path: Path) -> None:
    torchy = ["torch", "torch.nn.functional", "stable_baselines3.ppo", "sb3_contrib", "torch_geometric.nn"]
    full = _check(tmp_path, ["scythe_desktop", "numpy", "ray.tune", *torchy])
    assert full.returncode == 1 and "ray.tune" in full.stderr and "torch" not in full.stderr
    field = _check(tmp_path, ["scythe_desktop", "numpy", "torchaudio_like_name_ok", *torchy], "--field")
    assert field.returncode == 1
    for name in torchy:
        assert name in field.stderr
    assert "torchaudio_like_name_ok" not in field.stderr
    assert _check(tmp_path, ["scythe_desktop", "numpy", "scipy.spatial"], "--field").returncode == 0
