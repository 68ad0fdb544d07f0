"""What observers cost, for B worlds: a running rate, a set-up fee and a minimum billing period.

* Every observer is billed ``cost_per_hour`` (its type's cost scaled by its sampling rate) while it runs.
* A deploy and a relocation each charge the type's ``setup_fee`` at once (scenario key; default one hour of
  the type's base cost): moving a sensor is never free.
* An observer is billed for at least ``min_billing_minutes`` (default 30): decommissioning it earlier
  charges the rest of that period at once. Together these make duty-cycling (deploy, decommission,
  deploy …) cost more than keeping the observer, which an earlier policy exploited.

Both enter the spend, the reward's cost terms, the evaluation's cost and the **budget guard**
(:func:`scythe_desktop.engine.constraints.check_budget`): the running rate after a deploy or relocation plus
its set-up fee must fit the hourly budget, so moving a sensor needs headroom. Knows nothing of sensing or
rewards.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.scenario import Scenario


class Billing:
    """The spend ledger of B worlds."""

    def __init__(self, scenario: Scenario, worlds: int) -> None:
        types = scenario.observer_types
        self.type_cost = np.array([t.cost_per_hour for t in types])
        self.type_base_rate = np.array([t.sampling_rate for t in types])
        self.setup_fee = np.array([t.setup_fee for t in types])
        self.min_billing_hours = np.array([t.min_billing_hours for t in types])
        self.tick_hours = scenario.tick_hours
        self.budget_per_hour = scenario.constraints.budget_per_hour
        self.tick_charges = np.zeros(worlds)  # one-off charges of the tick in progress
        self.spend = np.zeros(worlds)  # $ since the world began

    def reset(self, worlds: NDArray[np.intp]) -> None:
        self.tick_charges[worlds] = 0.0
        self.spend[worlds] = 0.0

    def rate_cost(self, types: NDArray[np.int64], rates: NDArray[np.float64]) -> NDArray[np.float64]:
        """$/h of observers of ``types`` sampling at ``rates``."""
        return self.type_cost[types] * rates / self.type_base_rate[types]

    def early_exit_charge(
        self, types: NDArray[np.int64], cost: NDArray[np.float64], age_ticks: NDArray[np.int64]
    ) -> NDArray[np.float64]:
        """What decommissioning now charges: the unbilled rest of the minimum billing period."""
        left = np.maximum(self.min_billing_hours[types] - age_ticks * self.tick_hours, 0.0)
        return left * cost

    def charge(self, worlds: NDArray[np.intp], amount: NDArray[np.float64]) -> None:
        np.add.at(self.tick_charges, worlds, amount)

    def close_tick(self, rate: NDArray[np.float64]) -> NDArray[np.float64]:
        """End the tick: returns the $ each world spent in it (running cost + one-off charges)."""
        spent = rate * self.tick_hours + self.tick_charges
        self.spend += spent
        self.tick_charges[:] = 0.0
        return spent


__all__ = ["Billing"]
