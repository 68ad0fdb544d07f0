#!/usr/bin/env bash
# The shipped network's sweep on `regional` (decision-brain issue). Every run starts from behaviour cloning of
# the rollout planner (expert iteration: the network learns what the lookahead chooses; 64 teacher episodes,
# env seeds 0..63; `scythe train --imitate rollout` collects them, DEMOS reuses a collection) and fine-tunes
# with MaskablePPO on the batched engine with the default reward weights. Selection is by `scythe evaluate` on
# validation seeds 500..509 only; held-out seeds 1000..1019 are never looked at here.
# Usage: scripts/sweep_regional.sh OUT   (STEPS, DEMOS, TEACHER, SCYTHE override the defaults)
set -euo pipefail
out=${1:-runs/sweep}
steps=${STEPS:-200000}
scythe=${SCYTHE:-.venv/bin/scythe}
mkdir -p "$out"
if [[ -n "${DEMOS:-}" ]]; then teacher=(--demos "$DEMOS" --imitate "${TEACHER:-rollout}"); else teacher=(--imitate "${TEACHER:-rollout}" --demo-episodes 64); fi
common=(--scenario regional --timesteps "$steps" --seed 7 --no-progress --checkpoint-every 100000 --n-epochs 3
        --bc-epochs 40 "${teacher[@]}")
# bc: behaviour cloning alone (one PPO rollout of 16k steps at a tiny learning rate), the reference the
# fine-tuned runs must beat on the validation seeds.
declare -A runs=(
  [bc]="--lr 1e-7 --ent-coef 0.0 --n-steps 64 --timesteps 1"
  [lr1e-4_ent1e-3]="--lr 1e-4 --ent-coef 0.001 --n-steps 64"
  [lr3e-4_ent1e-3]="--lr 3e-4 --ent-coef 0.001 --n-steps 64"
  [lr1e-4_ent1e-2_n128]="--lr 1e-4 --ent-coef 0.01 --n-steps 128"
  [lr1e-4_ent1e-3_w512]="--lr 1e-4 --ent-coef 0.001 --n-steps 64 --net 512,512"
)
for name in bc lr1e-4_ent1e-3 lr3e-4_ent1e-3 lr1e-4_ent1e-2_n128 lr1e-4_ent1e-3_w512; do
  # shellcheck disable=SC2086
  $scythe train "${common[@]}" ${runs[$name]} --out "$out/$name" > "$out/$name.log" 2>&1
  $scythe evaluate --policy ppo --model "$out/$name/policy.pt" --seeds 500..509 --no-progress --equal-spend none \
    --json "$out/$name/validation.json" > "$out/$name/validation.txt" 2>&1
done
