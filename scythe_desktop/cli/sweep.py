"""``scythe sweep CONFIG.toml --ray ADDRESS|local``: a Ray Tune sweep over training configurations (see
:mod:`scythe_desktop.cluster.sweep` and, for the file, :mod:`scythe_desktop.cluster.sweep_config`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", type=Path, help="the sweep's TOML file")
    parser.add_argument("--ray", metavar="ADDRESS", required=True,
                        help="HOST:PORT of a Ray head node, 'auto' inside a cluster, or 'local' (this machine)")
    parser.add_argument("--resume", action="store_true", help="continue the interrupted sweep of this config")
    parser.add_argument("--out", type=Path, default=None,
                        help="export the best policy and its card here (default: the sweep's best/ directory)")


def run(args: argparse.Namespace) -> int:
    from scythe_desktop.cluster import ClusterError, require_ray
    from scythe_desktop.cluster.sweep_config import load_sweep

    try:
        require_ray()
        sweep = load_sweep(args.config)
        from scythe_desktop.cluster.connect import connect
        from scythe_desktop.cluster.sweep import check_storage, format_rows, run_sweep

        check_storage(sweep.storage)  # before joining the cluster: a bad path costs nothing
        connect(args.ray)
        outcome = run_sweep(sweep, resume=args.resume, out=args.out)
    except ClusterError as exc:
        print(f"scythe sweep: {exc}", file=sys.stderr)
        return 2
    print(format_rows(outcome.rows))
    print(f"results:      {outcome.directory / 'results.csv'} and results.json")
    print(f"best policy:  {outcome.best_policy} (card beside it)")
    failed = [r for r in outcome.rows if r.status == "error"]
    if failed:
        print(f"scythe sweep: {len(failed)} trial(s) failed: {failed[0].trial_id}: {failed[0].error}", file=sys.stderr)
        return 1
    return 0
