#!/usr/bin/env bash
# Time-to-accuracy of one training recipe: train under a budget of "2-core minutes" (process CPU
# time / 2, RLR_BUDGET_CPU_CORES=2, so other jobs on a shared machine do not shorten the run),
# save a snapshot at each earlier budget mark, then evaluate every snapshot and the final model.
# Usage, from the repository root:
#   TAG=<name> RECIPE="<train flags>" MINUTES=20 SNAPSHOTS=5,10 \
#     packages/cli/bench/recipes.sh <dataset-name> <out-dir> <dataset/backbone flags…>
# CORES (default 2) sets the divisor of the CPU clock; CORES=wall uses wall time instead.
# Appends one JSON line per budget (snapshots and final) to <out-dir>/recipes.jsonl.
set -euo pipefail
name=$1; out=$2; shift 2
bin="$(cd "$(dirname "$0")/.." && pwd)/dist/bin.js"
tag=${TAG:?set TAG to name the recipe}
minutes=${MINUTES:-20}
snapshots=${SNAPSHOTS:-}
cores=${CORES:-2}
mkdir -p "$out"
run="$out/$name-$tag"
rm -rf "$run"
if [ "$cores" = wall ]; then unset RLR_BUDGET_CPU_CORES; else export RLR_BUDGET_CPU_CORES=$cores; fi
# shellcheck disable=SC2086
node "$bin" train --preset fast --out "$run" --quiet "$@" ${RECIPE:-} --max-minutes "$minutes" ${snapshots:+--snapshot-minutes $snapshots}
unset RLR_BUDGET_CPU_CORES
dirs=()
if [ -n "$snapshots" ]; then for m in ${snapshots//,/ }; do dirs+=("$run/snapshots/${m}min"); done; fi
dirs+=("$run")
for d in "${dirs[@]}"; do
  [ -f "$d/run.json" ] || continue
  node "$bin" eval --model "$d" --quiet > /dev/null
  node -e '
    const [name, tag, d, minutes, flags] = process.argv.slice(1);
    const path = require("node:path");
    const p = (f) => require(path.resolve(d, f));
    const m = p("report/metrics.json");
    const r = p("run.json");
    const snap = r.snapshot;
    const h = require(path.resolve(snap ? path.join(d, "..", "..") : d, "history.json")).filter((e) => e.epoch <= r.epochsDone);
    const last = h.at(-1) || {};
    console.log(JSON.stringify({ dataset: name, recipe: tag, flags, budget_min: snap ? snap.minutes : +minutes,
      clock: snap ? snap.clock : (process.env.CORES === "wall" ? "wall" : "cpu/" + (process.env.CORES || 2)),
      used_min: +((snap ? snap.clockSeconds : (last.clockSeconds || 0)) / 60).toFixed(2), epochs: r.epochsDone, kept_epoch: r.keptEpoch ?? (snap && snap.keptEpoch) ?? null,
      stop: r.stopReason || null, val_loss: last.valLoss ?? null, image_auroc: m.mean.image.auroc,
      pixel_auroc: m.mean.pixel ? m.mean.pixel.auroc : null, aupro: m.mean.pixel ? m.mean.pixel.aupro : null, test_images: m.pooled.counts }));
  ' "$name" "$tag" "$d" "$minutes" "$* ${RECIPE:-}" | tee -a "$out/recipes.jsonl"
done
