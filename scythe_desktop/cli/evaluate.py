"""``scythe evaluate``: forwards to :mod:`scythe_desktop.engine.rl.cli_evaluate` (its arguments and run), which the
batched-engine work keeps under engine/rl for now; every subcommand is named ``cli/<subcommand>.py``."""

from scythe_desktop.engine.rl.cli_evaluate import add_arguments, run

__all__ = ["add_arguments", "run"]
