"""``scythe train``: train a MaskablePPO observer policy from the command line (see :mod:`.training`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scythe_desktop.engine.rl.reward import RewardWeights
    from scythe_desktop.engine.rl.training import TrainConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", default="regional", help="scenario name or TOML path (default: regional)")
    parser.add_argument("--timesteps", type=int, default=200_000, help="total env steps over all envs")
    parser.add_argument("--seed", type=int, default=0, help="seeds the model and the environments")
    parser.add_argument("--out", type=Path, default=Path("runs/ppo"), help="output directory")
    parser.add_argument("--envs", type=int, default=256, help="worlds per batch (default 256)")
    parser.add_argument(
        "--backend",
        choices=("batch", "subprocess", "dummy"),
        default="batch",
        help="batch: one ObserverVecEnv stepping every world at once (default); subprocess: one ObserverEnv "
        "process per env (the old path, for comparison); dummy: ObserverEnvs in this process (debugging)",
    )
    parser.add_argument("--checkpoint-every", type=int, default=20_000, help="env steps between checkpoints")
    parser.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    parser.add_argument(
        "--ray", metavar="ADDRESS", default=None,
        help="run this training as one task on a Ray cluster (HOST:PORT of its head node, 'auto' inside one, or "
        "'local'; needs the cluster extra); progress streams back and the files land in --out",
    )  # fmt: skip
    parser.add_argument("--ray-cpus", type=float, default=1.0, help="CPUs the --ray task asks for (default 1)")
    parser.add_argument("--ray-gpus", type=float, default=0.0,
                        help="GPUs the --ray task asks for (default 0); > 0 trains the learner on CUDA")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--lr", type=float, default=3e-4, help="learning rate (default 3e-4)")
    parser.add_argument("--ent-coef", type=float, default=0.01, help="entropy coefficient (default 0.01)")
    parser.add_argument("--n-steps", type=int, default=64, help="rollout length per world (default 64)")
    parser.add_argument("--n-epochs", type=int, default=5, help="PPO epochs per update (default 5)")
    parser.add_argument("--batch-size", type=int, default=2048, help="PPO minibatch size (default 2048)")
    parser.add_argument(
        "--imitate",
        default=None,
        metavar="POLICY",
        help="clone this teacher policy (e.g. greedy-reward) before PPO starts; off by default",
    )
    parser.add_argument("--demo-episodes", type=int, default=128, help="teacher episodes for --imitate (128)")
    parser.add_argument("--demos", type=Path, default=None, help="demonstrations (.npz) of an earlier --imitate")
    parser.add_argument("--init-from", type=Path, default=None,
                        help="start from this policy.pt's weights (e.g. resources/policies/ppo_regional.pt)")
    parser.add_argument("--bc-epochs", type=int, default=10, help="behaviour-cloning epochs (default 10)")
    parser.add_argument("--net", default="256,256", help="hidden layer widths, comma separated (default 256,256)")
    parser.add_argument("--adversarial", action="store_true",
                        help="self-play on an adversarial scenario (default: adversarial): observers and evader, each "
                        "against a pool of frozen past opponents; --timesteps counts both sides")
    parser.add_argument("--rounds", type=int, default=4, help="self-play rounds (evader phase, then defender's)")
    parser.add_argument("--graph", action="store_true",
                        help="the graph policy, one network for any world: cloned from --imitate (default rollout) on "
                        "--scenarios generated worlds of --family plus tutorial, regional and adversarial (global is "
                        "held out), --bc-epochs epochs at --lr; validated on generated worlds never trained on")
    parser.add_argument("--family", default="mixed", help="scenario generator family for --graph (default mixed)")
    parser.add_argument("--scenarios", type=int, default=32,
                        help="generated training scenarios for --graph: generator seeds 1..N (default 32)")
    parser.add_argument("--jobs", type=int, default=2, help="processes collecting --graph demonstrations (default 2)")
    parser.add_argument(
        "--reward",
        action="append",
        default=[],
        metavar="NAME=WEIGHT",
        help="override one reward weight (repeatable), e.g. --reward compute_cost=1.5; names: "
        "entropy, agreement, detection, deployment_cost, redundancy, compute_cost, latency, early_activation",
    )


def parse_reward_weights(items: list[str]) -> RewardWeights:
    """``["compute_cost=1.5", ...]`` -> RewardWeights with those overrides (ValueError naming the bad one)."""
    from scythe_desktop.engine.rl.reward import RewardWeights

    values: dict[str, float] = {}
    known = set(RewardWeights.__dataclass_fields__)
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or name not in known:
            raise ValueError(f"--reward expects NAME=WEIGHT with NAME in {sorted(known)}, got {item!r}")
        try:
            values[name] = float(value)
        except ValueError:
            raise ValueError(f"--reward {name}: expected a number, got {value!r}") from None
    return RewardWeights(**values)


def parse_net(text: str) -> tuple[int, ...]:
    """``"256,256"`` -> (256, 256) (ValueError naming the bad width)."""
    try:
        widths = tuple(int(w) for w in text.split(","))
    except ValueError:
        raise ValueError(f"--net expects comma-separated layer widths, got {text!r}") from None
    if not widths or min(widths) < 1:
        raise ValueError(f"--net widths must be >= 1, got {text!r}")
    return widths


def run_selfplay(args: argparse.Namespace) -> int:
    from scythe_desktop.engine.rl.selfplay import DEFENDER_FILE, EVADER_FILE, SelfPlayConfig, selfplay
    from scythe_desktop.engine.scenario import ScenarioError

    scenario = "adversarial" if args.scenario == "regional" else args.scenario  # the default world has no evader
    try:
        cfg = SelfPlayConfig(scenario=scenario, timesteps=args.timesteps, rounds=args.rounds, n_envs=args.envs,
                             n_steps=args.n_steps, batch_size=args.batch_size, n_epochs=args.n_epochs,
                             defender_lr=args.lr, defender_ent_coef=args.ent_coef, seed=args.seed,
                             init_defender=args.init_from, out_dir=args.out,
                             command=" ".join(["scythe", *sys.argv[1:]]))
    except (ScenarioError, ValueError) as exc:
        print(f"scythe train: {exc}", file=sys.stderr)
        return 2

    def report(phase: dict) -> None:
        if not args.no_progress:
            print(f"round {phase['round']}: {phase['learner']} at {phase['steps']:,} steps against "
                  f"{phase['opponent']}", file=sys.stderr)

    card = selfplay(cfg, on_phase=report)
    print(f"defender (observers): {card.parent / DEFENDER_FILE}")
    print(f"evader:               {card.parent / EVADER_FILE}")
    print(f"cards:                {card} and {card.with_name('evader.json')}")
    return 0


def run_graph(args: argparse.Namespace) -> int:
    from scythe_desktop.engine.policies import check_policy_name
    from scythe_desktop.engine.rl.graph_training import GraphTrainConfig, train_graph

    try:
        teacher = args.imitate or "rollout"
        check_policy_name(teacher)
        cfg = GraphTrainConfig(out_dir=args.out, family=args.family, scenarios=args.scenarios, teacher=teacher,
                               epochs=args.bc_epochs, learning_rate=args.lr, seed=args.seed, jobs=args.jobs,
                               command=" ".join(["scythe", *sys.argv[1:]]))
    except ValueError as exc:
        print(f"scythe train: {exc}", file=sys.stderr)
        return 2

    def show(done: int, total: int) -> None:
        if not args.no_progress:
            print(f"teacher {teacher}: {done} / {total} worlds", file=sys.stderr)

    path = train_graph(cfg, on_world=show)
    print(f"policy (to ship):    {path}")
    print(f"card:                {path.with_suffix('.json')}")
    return 0


def run_on_cluster(args: argparse.Namespace, cfg: TrainConfig) -> int:
    from scythe_desktop.cluster import ClusterError
    from scythe_desktop.engine.rl.training import CARD, POLICY_FILE

    if args.resume:
        print("scythe train: --resume continues a local run; a --ray run starts from --init-from", file=sys.stderr)
        return 2
    if args.ray_cpus <= 0 or args.ray_gpus < 0:
        print(f"scythe train: --ray-cpus must be > 0 and --ray-gpus >= 0, got {args.ray_cpus}, {args.ray_gpus}",
              file=sys.stderr)
        return 2

    def show(row: dict[str, float]) -> None:
        if not args.no_progress:
            print(f"{int(row['steps']):,} / {cfg.timesteps:,} env steps, episode reward "
                  f"{row['episode_reward_mean']:.1f}", file=sys.stderr, flush=True)

    try:
        from scythe_desktop.cluster.connect import connect
        from scythe_desktop.cluster.remote_train import train_on_cluster

        connect(args.ray)
        final = train_on_cluster(cfg, cpus=args.ray_cpus, gpus=args.ray_gpus, on_progress=show)
    except ClusterError as exc:
        print(f"scythe train: {exc}", file=sys.stderr)
        return 2
    print(f"model (resumable):   {final}")
    print(f"policy (to ship):    {final.parent / POLICY_FILE}")
    print(f"card:                {final.parent / CARD}")
    return 0


def run(args: argparse.Namespace) -> int:
    from scythe_desktop.engine.backend import torch_available

    if not torch_available():
        print("scythe train: this build has no torch (the field build infers on numpy and cannot train); train "
              "with the full build or from source", file=sys.stderr)
        return 2
    if args.adversarial:
        return run_selfplay(args)
    if args.graph:
        return run_graph(args)
    from scythe_desktop.engine.policies import check_policy_name
    from scythe_desktop.engine.rl.training import CARD, POLICY_FILE, TrainConfig, tensorboard_available, train
    from scythe_desktop.engine.scenario import ScenarioError, load_scenario

    try:
        load_scenario(args.scenario)  # fail fast, before any process starts
        if args.imitate is not None:
            check_policy_name(args.imitate)
        weights = parse_reward_weights(args.reward)
        cfg = TrainConfig(
            scenario=args.scenario,
            timesteps=args.timesteps,
            seed=args.seed,
            out_dir=args.out,
            n_envs=args.envs,
            backend=args.backend,
            checkpoint_every=args.checkpoint_every,
            resume=args.resume,
            progress_bar=not args.no_progress,
            learning_rate=args.lr,
            ent_coef=args.ent_coef,
            n_steps=args.n_steps,
            n_epochs=args.n_epochs,
            batch_size=args.batch_size,
            net_arch=parse_net(args.net),
            imitate=args.imitate,
            demo_episodes=args.demo_episodes,
            demos=args.demos,
            bc_epochs=args.bc_epochs,
            init_from=args.init_from,
            env_kwargs={"reward_weights": weights} if args.reward else {},
        )
    except (ScenarioError, ValueError) as exc:
        print(f"scythe train: {exc}", file=sys.stderr)
        return 2
    if args.ray is not None:
        return run_on_cluster(args, cfg)
    if not tensorboard_available():
        print("scythe train: tensorboard is not installed; training without TensorBoard logs", file=sys.stderr)
    final = train(cfg)
    print(f"model (resumable):   {final}")
    print(f"policy (to ship):    {final.parent / POLICY_FILE}")
    print(f"card:                {final.parent / CARD}")
    return 0
