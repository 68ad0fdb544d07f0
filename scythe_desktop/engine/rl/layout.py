"""What every observer environment is built from: the scenario, the observation/action layout, the reward
weights and the episode length, validated once (:class:`EnvLayout`), for the single ``ObserverEnv`` and the
batched ``ObserverVecEnv`` alike. Knows nothing of gymnasium or SB3."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scythe_desktop.engine.rl.reward import RewardWeights
from scythe_desktop.engine.rl.spaces import ActionCodec, EnvConfig, ObservationEncoder
from scythe_desktop.engine.scenario import Scenario, load_scenario


@dataclass(frozen=True)
class EnvLayout:
    scenario: Scenario
    config: EnvConfig
    weights: RewardWeights
    episode_ticks: int
    codec: ActionCodec
    encoder: ObservationEncoder

    @classmethod
    def build(
        cls,
        scenario: str | Path | Scenario,
        episode_ticks: int,
        config: EnvConfig | None,
        reward_weights: RewardWeights | None,
    ) -> EnvLayout:
        if episode_ticks < 1:
            raise ValueError(f"episode_ticks must be >= 1, got {episode_ticks}")
        sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        cfg = config or EnvConfig()
        codec = ActionCodec(sc, cfg)
        return cls(sc, cfg, reward_weights or RewardWeights(), episode_ticks, codec, ObservationEncoder(codec))


__all__ = ["EnvLayout"]
