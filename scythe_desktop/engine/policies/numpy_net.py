"""A trained MaskablePPO actor in numpy: the policy's logits and masked probabilities without torch.

The field-laptop build ships without torch, so beside each shipped ``.pt`` policy lies a ``.npz`` export of
its actor (``resources/policies/ppo_regional.npz``, for ``ppo`` and ``brain``; ``adversarial/evader.npz``, for
``scythe evaluate --evader trained``): plain float32 arrays written by :func:`export_numpy`
(``np.savez``, no pickle; read back with ``allow_pickle=False``) plus a JSON ``meta`` entry that says how to
rebuild the computation. Regenerate it after retraining, on a machine with torch::

    python -m scythe_desktop.engine.policies.numpy_net resources/policies/ppo_regional.pt [DEST.npz]

(``tests/engine/test_numpy_policy.py`` re-exports both committed ``.pt`` and fails when an ``.npz`` differs.)

What is exported is the forward pass SB3 runs for an action, and nothing else (no value head):

1. SB3's ``preprocess_obs`` per key of the Dict observation: a Box is cast to float32 (divided by 255 when
   SB3 takes it for an image and ``normalize_images`` is on), a MultiBinary cast to float32, a Discrete or
   MultiDiscrete one-hot encoded;
2. ``CombinedExtractor``: each key flattened, concatenated in the extractor's key order (recorded);
3. ``mlp_extractor.policy_net``: its Linear layers and activations (``tanh`` or ``relu``) in order;
4. ``action_net``: Linear to the logits;
5. sb3-contrib's ``MaskableCategorical``: masked logits replaced by float32 ``-1e8``, normalised by their
   logsumexp, softmax. A MultiDiscrete action space does this per sub-action (``MaskableMultiCategorical``).

Anything else (a CNN or custom extractor, another activation, a non-discrete action space) is refused at
export with a ValueError naming the file and the unsupported part; a file whose meta this module does not
understand is refused at load the same way. Guarantee: float32 throughout, like the torch network, so
logits and probabilities agree with it to float32 rounding (the tests hold probabilities to 1e-5 absolute);
the most probable action is the same unless two are tied to within that rounding.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

FORMAT: Final = "scythe-numpy-policy"
FORMAT_VERSION: Final = 1
#: What sb3-contrib's MaskableCategorical puts in place of a masked logit (as a float32 tensor).
HUGE_NEG: Final = np.float32(-1e8)
ACTIVATIONS: Final = ("tanh", "relu")
PREPROCESS: Final = ("float", "image", "onehot")
REGENERATE: Final = "python -m scythe_desktop.engine.policies.numpy_net"

Obs = dict[str, Any]


@dataclass(frozen=True)
class ObsPart:
    """One key of the Dict observation: its shape and SB3's preprocessing of it (``classes``: the one-hot
    widths of a Discrete (one) or MultiDiscrete (one per entry) space)."""

    key: str
    shape: tuple[int, ...]
    preprocess: str
    classes: tuple[int, ...] = ()

    def features(self, value: Any) -> NDArray[np.float32]:
        """(B, width) float32 features of a (B, *shape) or (*shape) value, as SB3 feeds them to the MLP."""
        x = np.asarray(value).reshape(-1, *self.shape)
        if self.preprocess == "onehot":
            codes = x.reshape(x.shape[0], -1).astype(np.int64)
            return np.concatenate([np.eye(n, dtype=np.float32)[codes[:, j]] for j, n in enumerate(self.classes)],
                                  axis=1)
        flat = x.reshape(x.shape[0], -1).astype(np.float32)
        return flat / np.float32(255.0) if self.preprocess == "image" else flat

    @property
    def width(self) -> int:
        """Features this key contributes."""
        return sum(self.classes) if self.preprocess == "onehot" else math.prod(self.shape)


class NumpyPolicyNet:
    """The actor of a MaskablePPO policy, from a ``.npz`` of :func:`export_numpy` (see the module docstring)."""

    def __init__(self, meta: dict[str, Any], arrays: dict[str, NDArray[np.float32]], source: str = "<memory>") -> None:
        self.source = source
        if meta.get("format") != FORMAT or meta.get("version") != FORMAT_VERSION:
            raise ValueError(f"{source}: not a {FORMAT} file of version {FORMAT_VERSION} "
                             f"(format {meta.get('format')!r}, version {meta.get('version')!r})")
        self.parts = [ObsPart(p["key"], tuple(p["shape"]), p["preprocess"], tuple(p["classes"]))
                      for p in meta["observation"]]
        bad = [p.preprocess for p in self.parts if p.preprocess not in PREPROCESS]
        bad += [op for op in meta["policy_net"] if op != "linear" and op not in ACTIVATIONS]
        if bad or meta["action"]["kind"] not in ("discrete", "multi_discrete"):
            raise ValueError(f"{source}: unsupported {bad or meta['action']['kind']} (this numpy forward pass "
                             f"knows preprocessing {PREPROCESS}, activations {ACTIVATIONS}, discrete actions)")
        self.ops: list[str] = list(meta["policy_net"])
        names = [f"linear_{i}" for i in range(self.ops.count("linear"))] + ["action"]
        missing = [f"{n}_{a}" for n in names for a in ("weight", "bias") if f"{n}_{a}" not in arrays]
        if missing:
            raise ValueError(f"{source}: missing arrays {missing}")
        *self.layers, self.action_layer = [(arrays[f"{n}_weight"], arrays[f"{n}_bias"]) for n in names]
        width = sum(p.width for p in self.parts)
        for name, (w, _) in zip(names, [*self.layers, self.action_layer], strict=True):
            if w.ndim != 2 or w.shape[1] != width:
                raise ValueError(f"{source}: {name} takes {w.shape[1:]} inputs, the layer before gives {width}")
            width = w.shape[0]
        self.action_dims = tuple(int(d) for d in meta["action"]["dims"])
        self.multi = meta["action"]["kind"] == "multi_discrete"
        # The same information SB3's policy offers (PPOPolicy reads action_space.n).
        self.action_space: spaces.Space[Any] = (
            spaces.MultiDiscrete(list(self.action_dims)) if self.multi else spaces.Discrete(self.action_dims[0]))
        if self.action_layer[0].shape[0] != sum(self.action_dims):
            raise ValueError(f"{source}: action layer has {self.action_layer[0].shape[0]} outputs, "
                             f"the action space {sum(self.action_dims)}")

    @classmethod
    def load(cls, path: Path) -> NumpyPolicyNet:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: np.asarray(data[k]) for k in data.files}
        meta = json.loads(str(arrays.pop("meta")))
        return cls(meta, arrays, str(path))

    def logits(self, obs: Obs) -> NDArray[np.float32]:
        """(B, A) float32 logits of a batch (or a single, unbatched) observation dict."""
        x = np.concatenate([p.features(obs[p.key]) for p in self.parts], axis=1)
        layers = iter(self.layers)
        for op in self.ops:
            if op == "linear":
                w, b = next(layers)
                x = x @ w.T + b
            elif op == "tanh":
                x = np.tanh(x)
            else:
                x = np.maximum(x, np.float32(0.0))
        w, b = self.action_layer
        out: NDArray[np.float32] = x @ w.T + b
        return out

    def masked_probabilities(self, obs: Obs, masks: NDArray[np.bool_] | None = None) -> NDArray[np.float32]:
        """(B, A) float32 probabilities (per sub-action for a MultiDiscrete space, each block summing to 1)."""
        logits = self.logits(obs)
        if masks is not None:
            logits = np.where(np.asarray(masks, dtype=bool).reshape(logits.shape), logits, HUGE_NEG)
        blocks = np.split(logits, np.cumsum(self.action_dims)[:-1], axis=1)
        return np.concatenate([_softmax(b) for b in blocks], axis=1)

    def predict(self, observation: Obs, state: Any = None, episode_start: Any = None, deterministic: bool = False,
                action_masks: Any = None, rng: np.random.Generator | None = None) -> tuple[NDArray[np.int64], Any]:
        """SB3's ``predict``: the most probable (``deterministic``) or sampled actions, (B,) or (B, D) for a
        batch, unbatched for an unbatched observation. Sampling uses ``rng`` (not torch's random stream)."""
        probs = self.masked_probabilities(observation, action_masks)
        picks = []
        for block in np.split(probs, np.cumsum(self.action_dims)[:-1], axis=1):
            if deterministic:
                picks.append(np.argmax(block, axis=1))
            else:
                u = (rng or np.random.default_rng()).random((block.shape[0], 1))
                picks.append(np.minimum((np.cumsum(block, axis=1) < u).sum(axis=1), block.shape[1] - 1))
        actions = np.stack(picks, axis=1) if self.multi else picks[0]
        batched = any(np.shape(observation[p.key]) != p.shape for p in self.parts)
        return (actions.astype(np.int64) if batched else actions[0].astype(np.int64)), state


def _softmax(logits: NDArray[np.float32]) -> NDArray[np.float32]:
    """torch's ``Categorical(logits=...)``: logits minus their logsumexp, then a softmax, in float32."""
    top = logits.max(axis=1, keepdims=True)
    norm = logits - (top + np.log(np.exp(logits - top).sum(axis=1, keepdims=True)))
    e = np.exp(norm - norm.max(axis=1, keepdims=True))
    out: NDArray[np.float32] = e / e.sum(axis=1, keepdims=True)
    return out


def numpy_weights_path(policy_path: Path) -> Path:
    """Where the numpy export of ``policy_path`` lies (beside it, ``.npz``)."""
    return policy_path if policy_path.suffix == ".npz" else policy_path.with_suffix(".npz")


def load_numpy_net(policy_path: Path) -> NumpyPolicyNet:
    """The numpy network beside ``policy_path``; a missing export says how to make one."""
    npz = numpy_weights_path(policy_path)
    if not npz.exists():
        raise FileNotFoundError(f"numpy policy weights not found: {npz} (export them from {policy_path} on a "
                                f"machine with torch: {REGENERATE} {policy_path})")
    return NumpyPolicyNet.load(npz)


def describe(policy: Any, source: str) -> tuple[dict[str, Any], dict[str, NDArray[np.float32]]]:
    """The meta and arrays of an SB3 Maskable actor-critic ``policy``; ValueError naming ``source`` and the
    part if its structure is not one :class:`NumpyPolicyNet` computes."""
    from sb3_contrib.common.maskable.distributions import (
        MaskableCategoricalDistribution,
        MaskableMultiCategoricalDistribution,
    )
    from stable_baselines3.common.preprocessing import is_image_space
    from stable_baselines3.common.torch_layers import CombinedExtractor
    from torch import nn

    def refuse(what: str) -> ValueError:
        return ValueError(f"cannot export {source} to numpy: {what} is not supported (the numpy forward pass "
                          f"knows CombinedExtractor of Flatten, Linear + {'/'.join(ACTIVATIONS)}, discrete actions)")

    extractors = [policy.features_extractor, policy.pi_features_extractor]
    if not all(type(e) is CombinedExtractor for e in extractors):
        raise refuse(f"features extractor {type(policy.pi_features_extractor).__name__}")
    parts = []
    for key, module in policy.pi_features_extractor.extractors.items():
        if type(module) is not nn.Flatten:
            raise refuse(f"extractor {type(module).__name__} for observation key {key!r}")
        parts.append(_obs_part(key, policy.observation_space[key], policy.normalize_images, is_image_space, refuse))
    ops: list[str] = []
    arrays: dict[str, NDArray[np.float32]] = {}
    for module in policy.mlp_extractor.policy_net:
        if isinstance(module, nn.Linear):
            arrays[f"linear_{ops.count('linear')}_weight"] = _array(module.weight)
            arrays[f"linear_{ops.count('linear')}_bias"] = _array(module.bias)
            ops.append("linear")
        elif type(module).__name__.lower() in ACTIVATIONS:
            ops.append(type(module).__name__.lower())
        else:
            raise refuse(f"layer {type(module).__name__} in mlp_extractor.policy_net")
    if type(policy.action_net) is not nn.Linear:
        raise refuse(f"action_net {type(policy.action_net).__name__}")
    arrays["action_weight"], arrays["action_bias"] = _array(policy.action_net.weight), _array(policy.action_net.bias)
    dist = policy.action_dist
    if isinstance(dist, MaskableMultiCategoricalDistribution):
        action = {"kind": "multi_discrete", "dims": [int(d) for d in dist.action_dims]}
    elif isinstance(dist, MaskableCategoricalDistribution):
        action = {"kind": "discrete", "dims": [int(dist.action_dim)]}
    else:
        raise refuse(f"action distribution {type(dist).__name__}")
    meta = {"format": FORMAT, "version": FORMAT_VERSION, "source": Path(source).name, "observation": parts,
            "policy_net": ops, "action": action, "masked_logit": float(HUGE_NEG)}
    return meta, arrays


def _obs_part(key: str, space: Any, normalize_images: bool, is_image: Callable[[Any], bool],
              refuse: Callable[[str], ValueError]) -> dict[str, Any]:
    """One key's entry of the meta: SB3's ``preprocess_obs`` for its space, spelled out."""
    shape = [int(d) for d in space.shape]
    if isinstance(space, spaces.Box):
        kind = "image" if normalize_images and is_image(space) else "float"
        return {"key": key, "shape": shape, "preprocess": kind, "classes": []}
    if isinstance(space, spaces.MultiBinary):
        return {"key": key, "shape": shape, "preprocess": "float", "classes": []}
    if isinstance(space, spaces.Discrete):
        return {"key": key, "shape": shape, "preprocess": "onehot", "classes": [int(space.n)]}
    if isinstance(space, spaces.MultiDiscrete) and space.nvec.ndim == 1:
        return {"key": key, "shape": shape, "preprocess": "onehot", "classes": [int(n) for n in space.nvec]}
    raise refuse(f"observation space {space} for key {key!r}")


def _array(param: Any) -> NDArray[np.float32]:
    return np.ascontiguousarray(param.detach().cpu().numpy(), dtype=np.float32)


def export_numpy(policy_pt: Path, dest: Path | None = None) -> Path:
    """Write the numpy export of the policy file ``policy_pt`` (``.pt`` or ``.zip``; needs torch) to ``dest``
    (default: beside it, ``.npz``) and return ``dest``."""
    from scythe_desktop.engine.policies.ppo import load_network

    dest = numpy_weights_path(policy_pt) if dest is None else dest
    meta, arrays = describe(load_network(policy_pt), str(policy_pt))
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("wb") as f:  # a file object: np.savez would append .npz to a name without it
        # (the stub types **kwds as if one of them could be savez's allow_pickle flag)
        np.savez(f, meta=np.array(json.dumps(meta)), **arrays)  # type: ignore[arg-type]
    return dest


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (1, 2):
        print(f"usage: {REGENERATE} POLICY.pt [DEST.npz]", file=sys.stderr)
        return 2
    dest = export_numpy(Path(args[0]), Path(args[1]) if len(args) == 2 else None)
    print(f"wrote {dest} ({dest.stat().st_size / 2**20:.1f} MiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["HUGE_NEG", "NumpyPolicyNet", "ObsPart", "describe", "export_numpy", "load_numpy_net", "main",
           "numpy_weights_path"]
