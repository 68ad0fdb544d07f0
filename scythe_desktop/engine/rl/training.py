"""Train a MaskablePPO observer policy on :class:`~scythe_desktop.engine.env.ObserverEnv`.

What a practitioner expects from ``scythe train``: batched environments (by default one
:class:`~scythe_desktop.engine.rl.vec_env.ObserverVecEnv` stepping ``n_envs`` worlds in array operations, in
this process, with torch using every core; ``backend="subprocess"`` keeps the old one-process-per-env
``SubprocVecEnv`` for comparison), periodic
checkpoints, resuming from the newest checkpoint, a progress bar, TensorBoard logs when tensorboard is
installed (it is optional: nothing here needs it), and a JSON card beside the final model saying how it was
made. Reproducibility: the model seed and the environment seeds both come from ``seed``; on one machine the
same command gives bit-identical weights. This module knows nothing of the CLI or of the evaluation table.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scythe_desktop.engine.rl.spaces import EnvConfig
from scythe_desktop.engine.scenario import load_scenario

if TYPE_CHECKING:
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import VecEnv

FINAL_MODEL = "policy.zip"  # full MaskablePPO (with optimizer state): what --resume and SB3 tools load
POLICY_FILE = "policy.pt"  # the network only (a few MB): what ships and what PPOPolicy loads by default
CARD = "policy.json"  # the card beside policy.pt
CHECKPOINT_PREFIX = "ppo"
DEFAULT_EPISODE_TICKS = 200  # ObserverEnv's default


@dataclass(frozen=True)
class TrainConfig:
    """One training run. ``timesteps`` counts environment steps over all vectorised envs together."""

    scenario: str = "regional"
    timesteps: int = 200_000
    seed: int = 0
    out_dir: Path = Path("runs/ppo")
    n_envs: int = 256  # worlds in the batch (backend "batch") or env processes ("subprocess")
    backend: str = "batch"  # "batch" (ObserverVecEnv), "subprocess" (SubprocVecEnv) or "dummy" (DummyVecEnv)
    checkpoint_every: int = 20_000  # total env steps between checkpoints
    resume: bool = False
    progress_bar: bool = True
    n_steps: int = 64  # rollout length per env
    batch_size: int = 2048
    n_epochs: int = 5
    learning_rate: float = 3e-4
    gamma: float = 0.99
    ent_coef: float = 0.01
    net_arch: tuple[int, ...] = (256, 256)
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    imitate: str | None = None  # teacher policy to clone before PPO (see engine.rl.imitation)
    demo_episodes: int = 128  # teacher episodes (env seeds 0 .. demo_episodes - 1)
    demos: Path | None = None  # demonstrations saved by an earlier run, instead of collecting them
    bc_epochs: int = 10
    init_from: Path | None = None  # a policy.pt whose weights start the run (e.g. the shipped network)
    device: str = "cpu"  # torch device of the learner ("cuda" on a GPU node of a cluster)

    def __post_init__(self) -> None:
        if self.timesteps < 1:
            raise ValueError(f"timesteps must be >= 1, got {self.timesteps}")
        if self.n_envs < 1:
            raise ValueError(f"n_envs must be >= 1, got {self.n_envs}")
        if self.backend not in ("batch", "subprocess", "dummy"):
            raise ValueError(f"backend must be 'batch', 'subprocess' or 'dummy', got {self.backend!r}")
        if self.checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be >= 1, got {self.checkpoint_every}")
        for name in ("n_steps", "batch_size", "n_epochs"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}")
        if self.demo_episodes < 1 or self.bc_epochs < 1:
            raise ValueError(f"demo_episodes and bc_epochs must be >= 1, got {self.demo_episodes}, {self.bc_epochs}")
        if not self.ent_coef >= 0:
            raise ValueError(f"ent_coef must be >= 0, got {self.ent_coef}")


def tensorboard_available() -> bool:
    return importlib.util.find_spec("tensorboard") is not None


def latest_checkpoint(out_dir: Path) -> Path | None:
    """The checkpoint with the most steps under ``out_dir/checkpoints`` (None if there is none)."""
    pattern = re.compile(rf"{CHECKPOINT_PREFIX}_(\d+)_steps\.zip$")
    best: tuple[int, Path] | None = None
    for path in (out_dir / "checkpoints").glob(f"{CHECKPOINT_PREFIX}_*_steps.zip"):
        m = pattern.search(path.name)
        if m and (best is None or int(m.group(1)) > best[0]):
            best = (int(m.group(1)), path)
    return best[1] if best else None


def library_versions() -> dict[str, str]:
    import gymnasium
    import numpy
    import sb3_contrib
    import stable_baselines3
    import torch

    return {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "torch": torch.__version__,
        "gymnasium": gymnasium.__version__,
        "stable_baselines3": stable_baselines3.__version__,
        "sb3_contrib": sb3_contrib.__version__,
    }


def env_config(cfg: TrainConfig) -> EnvConfig:
    """The observation/action layout the run trains on (the card records it so loaders rebuild it)."""
    config = cfg.env_kwargs.get("config")
    return config if isinstance(config, EnvConfig) else EnvConfig()


def export_policy(model_zip: Path, dest: Path, card: dict[str, Any]) -> Path:
    """Write the network of a ``.zip`` checkpoint as a policy-only file ``dest`` (``.pt``) plus its card
    (``dest`` with ``.json``): what ``resources/policies/`` holds."""
    from sb3_contrib import MaskablePPO

    model = MaskablePPO.load(model_zip, device="cpu")
    dest.parent.mkdir(parents=True, exist_ok=True)
    model.policy.save(str(dest))
    full = {"timesteps": int(model.num_timesteps), **card, "library_versions": library_versions()}
    full.setdefault("env_config", asdict(EnvConfig()))
    dest.with_suffix(".json").write_text(json.dumps(full, indent=2) + "\n")
    return dest


def make_vec_env(cfg: TrainConfig) -> VecEnv:
    """``cfg.n_envs`` seeded, monitored environments (seeds ``seed .. seed + n_envs - 1``)."""
    from stable_baselines3.common.env_util import make_vec_env as sb3_make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecMonitor

    from scythe_desktop.engine.env import ObserverEnv

    kwargs = {"scenario": cfg.scenario, **cfg.env_kwargs}
    if cfg.backend == "batch":
        from scythe_desktop.engine.rl.vec_env import ObserverVecEnv

        return VecMonitor(ObserverVecEnv(cfg.n_envs, seed=cfg.seed, **kwargs))
    use_subproc = cfg.backend == "subprocess" and cfg.n_envs > 1
    return sb3_make_vec_env(
        ObserverEnv,
        n_envs=cfg.n_envs,
        seed=cfg.seed,
        env_kwargs=kwargs,
        vec_env_cls=SubprocVecEnv if use_subproc else DummyVecEnv,
        vec_env_kwargs={"start_method": "forkserver"} if use_subproc else None,
    )


def _load_weights(policy: Any, path: Path) -> None:
    """Copy the network of a saved ``policy.pt`` into ``policy`` (same layout and widths, or a clear error)."""
    from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy

    saved = MaskableActorCriticPolicy.load(str(path), device="cpu")
    try:
        policy.load_state_dict(saved.state_dict())
    except RuntimeError as exc:
        raise ValueError(f"--init-from {path}: its network does not match this run's ({exc})") from None


def _imitate(cfg: TrainConfig, policy: Any, out: Path) -> dict[str, Any]:
    """Behaviour cloning of ``cfg.imitate`` (or of ``cfg.demos``) into ``policy`` before PPO starts."""
    from scythe_desktop.engine.rl.imitation import Demonstrations, collect, pretrain

    if cfg.demos is not None:
        demos = Demonstrations.load(cfg.demos)
        source = str(cfg.demos)
    else:
        assert cfg.imitate is not None
        kwargs = {"scenario": cfg.scenario, **cfg.env_kwargs}
        demos = collect(cfg.imitate, list(range(cfg.demo_episodes)), kwargs, cfg.gamma, jobs=os.cpu_count() or 1)
        source = str(demos.save(out / "demos.npz"))
    stats = pretrain(policy, demos, epochs=cfg.bc_epochs, seed=cfg.seed)
    return {"teacher": cfg.imitate, "demonstrations": source, "episodes": demos.episodes or None,
            "unexpressed_actions": demos.unexpressed, **stats}


def progress_callback(report: Callable[[dict[str, float]], None]) -> BaseCallback:
    """An SB3 callback that calls ``report`` after every rollout with the env steps so far and the mean
    return of the last finished episodes (what ``scythe train --ray`` streams back)."""
    from stable_baselines3.common.callbacks import BaseCallback

    class Progress(BaseCallback):
        def _on_step(self) -> bool:
            return True

        def _on_rollout_end(self) -> None:
            episodes = [e["r"] for e in self.model.ep_info_buffer or ()]
            mean = float(sum(episodes) / len(episodes)) if episodes else float("nan")
            report({"steps": float(self.model.num_timesteps), "episode_reward_mean": mean})

    return Progress()


def train(cfg: TrainConfig, callbacks: Sequence[BaseCallback] = ()) -> Path:
    """Run (or resume) training; returns the path of the final model zip (``out_dir/policy.zip``).
    ``callbacks`` (SB3 callbacks) run beside the checkpointing one."""
    import torch
    from sb3_contrib import MaskablePPO
    from stable_baselines3.common.callbacks import CallbackList, CheckpointCallback

    # With env processes, one torch thread each (two per process halved throughput on 2 cores); the batched
    # env runs in this process, so the update gets every core.
    torch.set_num_threads((os.cpu_count() or 1) if cfg.backend == "batch" else 1)
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    env = make_vec_env(cfg)
    tb_dir = str(out / "tensorboard") if tensorboard_available() else None
    try:
        start = latest_checkpoint(out) if cfg.resume else None
        if start is not None:
            model = MaskablePPO.load(start, env=env, device=cfg.device, tensorboard_log=tb_dir)
        else:
            model = MaskablePPO(
                "MultiInputPolicy",
                env,
                n_steps=cfg.n_steps,
                batch_size=cfg.batch_size,
                n_epochs=cfg.n_epochs,
                learning_rate=cfg.learning_rate,
                gamma=cfg.gamma,
                ent_coef=cfg.ent_coef,
                policy_kwargs={"net_arch": list(cfg.net_arch)},
                seed=cfg.seed,
                device=cfg.device,
                tensorboard_log=tb_dir,
                verbose=0,
            )
        if start is None and cfg.init_from is not None:
            _load_weights(model.policy, cfg.init_from)
        imitation = _imitate(cfg, model.policy, out) if start is None and (cfg.imitate or cfg.demos) else None
        remaining = max(cfg.timesteps - model.num_timesteps, 0)
        checkpoints = CheckpointCallback(
            save_freq=max(cfg.checkpoint_every // cfg.n_envs, 1),
            save_path=str(out / "checkpoints"),
            name_prefix=CHECKPOINT_PREFIX,
        )
        if remaining > 0:
            model.learn(
                remaining,
                callback=CallbackList([checkpoints, *callbacks]),
                reset_num_timesteps=start is None,
                progress_bar=cfg.progress_bar,
            )
        final = out / FINAL_MODEL
        model.save(final)
        model.policy.save(str(out / POLICY_FILE))
        card = {
            "scenario": cfg.scenario,
            "scenario_fingerprint": load_scenario(cfg.scenario).fingerprint(),
            "timesteps": int(model.num_timesteps),
            "seed": cfg.seed,
            "algorithm": "sb3_contrib.MaskablePPO",
            "resumed_from": str(start) if start else None,
            "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()},
            "library_versions": library_versions(),
            "env_config": asdict(env_config(cfg)),
            "imitation": imitation,
            "initialised_from": str(cfg.init_from) if cfg.init_from else None,
            "episode_ticks": int(cfg.env_kwargs.get("episode_ticks", DEFAULT_EPISODE_TICKS)),
        }
        (out / CARD).write_text(json.dumps(card, indent=2) + "\n")
        return final
    finally:
        env.close()
