"""The graph policy network: torch_geometric message passing over clusters, observers and sites, and a
per-entity action head, as an SB3 features extractor inside a MaskablePPO policy.

:class:`GraphNet` turns the padded observation of :mod:`~scythe_desktop.engine.rl.graph_layout` into one
PyG graph per batch (every world's real rows become nodes; the neighbour lists, in both directions, become
edges with a relation one-hot and distance/footprint attributes), runs :data:`LAYERS` residual ``GATv2Conv``
layers and scores every action from the embeddings of the entities it names: a bilinear score per (type,
site), (observer, site) and (observer, cluster), a linear one per observer for sampling and decommission, and
the no-op and the value from a symmetric readout (masked means and maxima). Nothing depends on row order, so
permuting clusters or observers permutes their logits the same way and leaves the value unchanged, and the
action space grows with the world up to the maxima (padding rows are masked).

SB3 wants ``features -> mlp_extractor -> action_net / value_net``; the documented way round it used here:
:class:`GraphExtractor` outputs the logits and the value side by side, the MLP extractor is the identity
(``net_arch=[]``) and :class:`GraphActorCriticPolicy` replaces ``action_net``/``value_net`` by slices, so
MaskablePPO's masking, sampling, ``evaluate_actions`` and ``save``/``load`` work unchanged.
"""

from __future__ import annotations

from typing import Any, Final

import torch
from gymnasium import spaces
from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn
from torch_geometric.nn import GATv2Conv

from scythe_desktop.engine.rl import graph_layout as gl

HIDDEN: Final = 64
LAYERS: Final = 2
HEADS: Final = 4
ENTITIES: Final = ("clusters", "observers", "sites")
_ROWS: Final = {"clusters": gl.MAX_CLUSTERS, "observers": gl.MAX_OBSERVERS, "sites": gl.MAX_SITES}
_START: Final = {"clusters": 0, "observers": gl.MAX_CLUSTERS, "sites": gl.MAX_CLUSTERS + gl.MAX_OBSERVERS}
NODES: Final = gl.MAX_CLUSTERS + gl.MAX_OBSERVERS + gl.MAX_SITES  # node rows per world
#: edge attribute columns: relation one-hot (4 relations × 2 directions), distance, footprint per type (sc),
#: footprint and focused (oc)
EDGE_DIM: Final = 8 + 1 + gl.MAX_TYPES + 2


def _attr_columns(rel: str) -> list[int]:
    if rel == "oc":  # distance, then footprint and focused after the per-type columns
        return [8, 9 + gl.MAX_TYPES, 10 + gl.MAX_TYPES]
    return list(range(8, 8 + gl.RELATIONS[rel][3]))


def graph_edges(obs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """The batch's edges (2, E) over node rows ``world * NODES + start(entity) + row`` and their attributes."""
    indices, attrs = [], []
    for r, (rel, (src, dst, _, _)) in enumerate(gl.RELATIONS.items()):
        idx = obs[f"{rel}_index"].long()
        bw, i, k = (idx >= 0).nonzero(as_tuple=True)
        a = bw * NODES + _START[src] + i
        b = bw * NODES + _START[dst] + idx[bw, i, k]
        attr = torch.zeros(a.numel(), EDGE_DIM, dtype=torch.float32, device=idx.device)
        attr[:, _attr_columns(rel)] = obs[f"{rel}_attr"][bw, i, k]
        back = attr.clone()
        attr[:, 2 * r], back[:, 2 * r + 1] = 1.0, 1.0
        indices += [torch.stack([a, b]), torch.stack([b, a])]
        attrs += [attr, back]
    return torch.cat(indices, dim=1), torch.cat(attrs)


def _masked_pool(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean and max over the real rows of (B, N, H) (zeros when a world has none)."""
    m = mask.unsqueeze(-1)
    mean = (h * m).sum(1) / m.sum(1).clamp_min(1.0)
    top = torch.where(m > 0, h, torch.full_like(h, -1e9)).amax(1)
    return torch.cat([mean, torch.where(m.sum(1) > 0, top, torch.zeros_like(top))], dim=-1)


class _Pair(nn.Module):
    """Bilinear score of every (a, b) pair plus a bias of each side: (B, Na, H) × (B, Nb, H) -> (B, Na, Nb)."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.q, self.k = nn.Linear(hidden, hidden), nn.Linear(hidden, hidden)
        self.bias_a, self.bias_b = nn.Linear(hidden, 1), nn.Linear(hidden, 1)
        self.scale = hidden**-0.5

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        score = torch.einsum("bih,bjh->bij", self.q(a), self.k(b)) * self.scale
        return score + self.bias_a(a) + self.bias_b(b).transpose(1, 2)


class GraphNet(nn.Module):
    """Logits over :data:`~scythe_desktop.engine.rl.graph_layout.N_ACTIONS` and a value, from one observation."""

    def __init__(self, hidden: int = HIDDEN, layers: int = LAYERS, heads: int = HEADS) -> None:
        super().__init__()
        widths = {"clusters": gl.CLUSTER_FEATURES, "observers": gl.OBSERVER_FEATURES, "sites": gl.SITE_FEATURES}
        self.encode = nn.ModuleDict(
            {k: nn.Sequential(nn.Linear(w + gl.GLOBAL_FEATURES, hidden), nn.ReLU()) for k, w in widths.items()}
        )
        self.types = nn.Sequential(nn.Linear(gl.TYPE_FEATURES + gl.GLOBAL_FEATURES, hidden), nn.ReLU())
        self.convs = nn.ModuleList(
            [GATv2Conv(hidden, hidden // heads, heads=heads, edge_dim=EDGE_DIM) for _ in range(layers)]
        )
        self.norms = nn.ModuleList([nn.LayerNorm(hidden) for _ in range(layers)])
        self.deploy, self.relocate, self.focus = _Pair(hidden), _Pair(hidden), _Pair(hidden)
        self.sampling, self.decommission = nn.Linear(hidden, 1), nn.Linear(hidden, 1)
        readout = 2 * hidden * len(ENTITIES) + gl.GLOBAL_FEATURES
        self.trunk = nn.Sequential(nn.Linear(readout, hidden), nn.ReLU())
        self.noop, self.value = nn.Linear(hidden, 1), nn.Linear(hidden, 1)

    def forward(self, obs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        g = obs["globals"]
        bsz = g.shape[0]
        parts = []
        for name in ENTITIES:
            x = obs[name]
            glob = g.unsqueeze(1).expand(-1, x.shape[1], -1)
            parts.append(self.encode[name](torch.cat([x, glob], dim=-1)) * obs[f"{name[:-1]}_mask"].unsqueeze(-1))
        h = torch.cat(parts, dim=1).reshape(bsz * NODES, -1)
        edge_index, edge_attr = graph_edges(obs)
        for conv, norm in zip(self.convs, self.norms, strict=True):
            h = norm(h + torch.relu(conv(h, edge_index, edge_attr)))
        h = h.reshape(bsz, NODES, -1)
        c, o, s = (h[:, _START[k] : _START[k] + _ROWS[k]] for k in ENTITIES)
        t = self.types(torch.cat([obs["types"], g.unsqueeze(1).expand(-1, gl.MAX_TYPES, -1)], dim=-1))
        pooled = [_masked_pool(x, obs[f"{k[:-1]}_mask"]) for x, k in zip((c, o, s), ENTITIES, strict=True)]
        z = self.trunk(torch.cat([*pooled, g], dim=-1))
        logits = torch.cat([
            self.noop(z),
            self.deploy(t, s).reshape(bsz, -1),
            self.relocate(o, s).reshape(bsz, -1),
            self.sampling(o).reshape(bsz, -1),
            self.focus(o, c).reshape(bsz, -1),
            self.decommission(o).reshape(bsz, -1),
        ], dim=1)
        return logits, self.value(z)


class GraphExtractor(BaseFeaturesExtractor):
    """SB3 features extractor: the logits and the value side by side, (B, N_ACTIONS + 1)."""

    def __init__(self, observation_space: spaces.Dict, hidden: int = HIDDEN, layers: int = LAYERS) -> None:
        super().__init__(observation_space, features_dim=gl.N_ACTIONS + 1)
        self.net = GraphNet(hidden, layers)

    def forward(self, observations: Any) -> torch.Tensor:
        logits, value = self.net(observations)
        return torch.cat([logits, value], dim=1)


class _Slice(nn.Module):
    def __init__(self, start: int, stop: int) -> None:
        super().__init__()
        self.start, self.stop = start, stop

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.start : self.stop]


class GraphActorCriticPolicy(MaskableActorCriticPolicy):
    """MaskablePPO's policy with :class:`GraphExtractor` as the whole network (module docstring)."""

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Space, lr_schedule: Any,
                 **kwargs: Any) -> None:
        kwargs.update(net_arch=[], ortho_init=False, share_features_extractor=True)
        kwargs.setdefault("features_extractor_class", GraphExtractor)
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)

    def _build(self, lr_schedule: Any) -> None:
        self._build_mlp_extractor()  # identity: net_arch is empty
        n = int(self.action_space.n)  # type: ignore[attr-defined]
        self.action_net = _Slice(0, n)
        self.value_net = _Slice(n, n + 1)  # type: ignore[assignment]
        self.optimizer = self.optimizer_class(self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs)  # type: ignore[call-arg]


__all__ = ["EDGE_DIM", "NODES", "GraphActorCriticPolicy", "GraphExtractor", "GraphNet", "graph_edges"]
