"""The typed TOML of ``scythe sweep``: what every trial trains with, what the search varies, how trials are
judged and stopped. Every key is checked; a wrong one gets an error naming the file and the key.

```toml
name = "regional-lr"                 # the sweep's directory under storage
storage = "runs/sweeps"              # a local directory or a path every node shares (NFS, ...)
samples = 4                          # draws from the search space (grid axes multiply them)
max_concurrent = 2                   # trials at once (default: as many as the cluster fits)

[train]                              # fixed for every trial (any search key may be fixed here instead)
scenario = "regional"
timesteps = 200000
report_every = 50000                 # env steps between validations: ASHA's rungs
n_envs = 64

[search]                             # one distribution per key
learning_rate = { loguniform = [1e-5, 1e-3] }
ent_coef = { choice = [0.0, 0.001, 0.01] }
seed = { grid = [1, 2] }
"reward.compute_cost" = { uniform = [0.5, 2.0] }

[validation]                         # the trial's score: the network alone, default reward weights
seeds = "500..504"
ticks = 200

[asha]
grace_period = 1                     # validations before a trial may be stopped
reduction_factor = 3
```

Keys of a trial (in ``[train]`` or ``[search]``): ``learning_rate``, ``ent_coef``, ``gamma``, ``n_steps``,
``n_epochs``, ``batch_size``, ``net`` (a list of widths), ``seed``, ``scenario`` (a name or TOML path),
``scenario_family`` (a generator family: the trial trains on ``scenario_family``'s scenario of seed
``scenario_seed``), ``scenario_seed`` and ``reward.NAME`` (one reward weight, shaping during training only: a
trial is always judged with the default weights). Distributions: ``choice``, ``grid`` (every value, crossed
with the other grid keys), ``uniform`` and ``loguniform`` ``[low, high]``, ``randint`` ``[low, high)``.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from scythe_desktop.cluster import ClusterError

DISTRIBUTIONS: Final = ("choice", "grid", "uniform", "loguniform", "randint")
#: Trial keys and the type their values must have.
TRIAL_KEYS: Final[dict[str, type | tuple[type, ...]]] = {
    "learning_rate": (int, float),
    "ent_coef": (int, float),
    "gamma": (int, float),
    "n_steps": int,
    "n_epochs": int,
    "batch_size": int,
    "net": list,
    "seed": int,
    "scenario": str,
    "scenario_family": str,
    "scenario_seed": int,
}
RUN_KEYS: Final = ("timesteps", "report_every", "n_envs")
TOP_KEYS: Final = ("name", "storage", "samples", "max_concurrent", "train", "search", "validation", "asha",
                   "max_failures")


def _reward_names() -> set[str]:
    from scythe_desktop.engine.rl.reward import RewardWeights

    return set(RewardWeights.__dataclass_fields__)


@dataclass(frozen=True)
class Dimension:
    """One searched key: its distribution and the distribution's arguments."""

    key: str
    kind: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class SweepConfig:
    name: str
    storage: Path
    samples: int = 1
    max_concurrent: int = 0  # 0: as many as the cluster fits
    timesteps: int = 100_000
    report_every: int = 25_000
    n_envs: int = 64
    fixed: dict[str, Any] = field(default_factory=dict)
    search: tuple[Dimension, ...] = ()
    validation_seeds: tuple[int, ...] = tuple(range(500, 505))
    validation_ticks: int = 200
    grace_period: int = 1
    reduction_factor: float = 3.0
    max_failures: int = 3  # retries of a trial whose worker or node died

    @property
    def reports(self) -> int:
        """Validations per trial that runs to the end (ASHA's max_t)."""
        return max(1, math.ceil(self.timesteps / self.report_every))


class _Reader:
    def __init__(self, source: Path) -> None:
        self.source = source

    def fail(self, where: str, what: str) -> ClusterError:
        return ClusterError(f"{self.source}: {where}: {what}")

    def table(self, doc: dict[str, Any], key: str) -> dict[str, Any]:
        value = doc.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a table, got {value!r}")
        return value

    def number(self, where: str, value: Any, kind: type, low: float) -> Any:
        ok = isinstance(value, kind) or (kind is float and isinstance(value, int))
        if isinstance(value, bool) or not ok or not math.isfinite(value) or value < low:
            raise self.fail(where, f"expected {'an integer' if kind is int else 'a number'} >= {low}, got {value!r}")
        return kind(value)

    def trial_value(self, where: str, key: str, value: Any) -> Any:
        if key.startswith("reward."):
            return self.number(where, value, float, 0.0)
        want = TRIAL_KEYS[key]
        if isinstance(value, bool) or not isinstance(value, want):
            raise self.fail(where, f"expected {_type_name(want)}, got {value!r}")
        if key == "net" and not (isinstance(value, list) and value
                                 and all(isinstance(w, int) and w >= 1 for w in value)):
            raise self.fail(where, f"expected a list of layer widths >= 1, got {value!r}")
        return value

    def key(self, where: str, key: str) -> str:
        if key in TRIAL_KEYS:
            return key
        if key.startswith("reward."):
            if key[len("reward."):] in _reward_names():
                return key
            raise self.fail(where, f"unknown reward weight {key!r}; expected reward.NAME with NAME in "
                                   f"{sorted(_reward_names())}")
        raise self.fail(where, f"unknown key {key!r}; expected one of {sorted(TRIAL_KEYS)} or reward.NAME")

    def dimension(self, key: str, spec: Any) -> Dimension:
        where = f"search.{key}"
        if not isinstance(spec, dict) or len(spec) != 1:
            raise self.fail(where, f"expected one distribution {{ KIND = ... }} with KIND in {DISTRIBUTIONS}, "
                                   f"got {spec!r}")
        (kind, args), = spec.items()
        if kind not in DISTRIBUTIONS:
            raise self.fail(where, f"unknown distribution {kind!r}; expected one of {DISTRIBUTIONS}")
        if not isinstance(args, list) or not args:
            raise self.fail(where, f"{kind} expects a non-empty list, got {args!r}")
        if kind in ("choice", "grid"):
            return Dimension(key, kind, tuple(self.trial_value(where, key, v) for v in args))
        if len(args) != 2:
            raise self.fail(where, f"{kind} expects [low, high], got {args!r}")
        if kind == "randint":
            if TRIAL_KEYS.get(key) is not int:
                raise self.fail(where, f"randint is for integer keys, not {key!r}")
            low, high = (self.number(where, a, int, 0) for a in args)
        else:
            if key in TRIAL_KEYS and TRIAL_KEYS[key] != (int, float):
                raise self.fail(where, f"{kind} is for real-valued keys, not {key!r}")
            low, high = (self.number(where, a, float, 0.0) for a in args)
            if kind == "loguniform" and low <= 0:
                raise self.fail(where, f"loguniform needs low > 0, got {low!r}")
        if not low < high:
            raise self.fail(where, f"expected low < high, got {args!r}")
        return Dimension(key, kind, (low, high))


def _type_name(want: type | tuple[type, ...]) -> str:
    names = {int: "an integer", float: "a number", str: "a string", list: "a list"}
    kinds = want if isinstance(want, tuple) else (want,)
    return names[float] if float in kinds else " or ".join(names[k] for k in kinds)


def _seeds(reader: _Reader, value: Any) -> tuple[int, ...]:
    if isinstance(value, list) and value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return tuple(value)
    if isinstance(value, str):
        low, sep, high = value.partition("..")
        if sep and low.strip().isdigit() and high.strip().isdigit() and int(low) <= int(high):
            return tuple(range(int(low), int(high) + 1))
    raise reader.fail("validation.seeds", f"expected 'a..b' (a <= b) or a list of integers, got {value!r}")


def parse_sweep(text: str, source: Path) -> SweepConfig:
    """A :class:`SweepConfig` from TOML ``text`` (``source`` names the file in errors)."""
    r = _Reader(source)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ClusterError(f"{source}: not valid TOML: {exc}") from None
    unknown = sorted(set(doc) - set(TOP_KEYS))
    if unknown:
        raise r.fail(unknown[0], f"unknown key; expected some of {list(TOP_KEYS)}")
    name = doc.get("name")
    if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
        raise r.fail("name", f"expected a directory name, got {name!r}")
    storage = doc.get("storage", "runs/sweeps")
    if not isinstance(storage, str) or not storage:
        raise r.fail("storage", f"expected a path, got {storage!r}")
    train = dict(r.table(doc, "train"))
    run = {k: r.number(f"train.{k}", train.pop(k), int, 1) for k in RUN_KEYS if k in train}
    fixed = {r.key(f"train.{k}", k): r.trial_value(f"train.{k}", k, v) for k, v in train.items()}
    search = tuple(r.dimension(r.key(f"search.{k}", k), v) for k, v in r.table(doc, "search").items())
    both = sorted(set(fixed) & {d.key for d in search})
    if both:
        raise r.fail(f"search.{both[0]}", "is also fixed in [train]; keep one")
    validation = r.table(doc, "validation")
    extra = sorted(set(validation) - {"seeds", "ticks"})
    if extra:
        raise r.fail(f"validation.{extra[0]}", "unknown key; expected seeds, ticks")
    asha = r.table(doc, "asha")
    extra = sorted(set(asha) - {"grace_period", "reduction_factor"})
    if extra:
        raise r.fail(f"asha.{extra[0]}", "unknown key; expected grace_period, reduction_factor")
    cfg = SweepConfig(
        name=name,
        storage=Path(storage).expanduser(),
        samples=r.number("samples", doc.get("samples", 1), int, 1),
        max_concurrent=r.number("max_concurrent", doc.get("max_concurrent", 0), int, 0),
        fixed=fixed,
        search=search,
        validation_seeds=_seeds(r, validation["seeds"]) if "seeds" in validation else SweepConfig.validation_seeds,
        validation_ticks=r.number("validation.ticks", validation.get("ticks", 200), int, 1),
        grace_period=r.number("asha.grace_period", asha.get("grace_period", 1), int, 1),
        reduction_factor=r.number("asha.reduction_factor", asha.get("reduction_factor", 3.0), float, 1.01),
        max_failures=r.number("max_failures", doc.get("max_failures", 3), int, 0),
        **run,
    )
    if cfg.report_every > cfg.timesteps:
        raise r.fail("train.report_every", f"is more than train.timesteps ({cfg.report_every} > {cfg.timesteps})")
    return cfg


def load_sweep(path: Path) -> SweepConfig:
    try:
        text = path.read_text()
    except OSError as exc:
        raise ClusterError(f"{path}: cannot read the sweep file ({exc.strerror or exc})") from None
    return parse_sweep(text, path)


__all__ = ["DISTRIBUTIONS", "TRIAL_KEYS", "Dimension", "SweepConfig", "load_sweep", "parse_sweep"]
