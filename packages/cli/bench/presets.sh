#!/usr/bin/env bash
# Compare the `fast` and `paper` presets (accuracy and time) on one dataset, through the real
# binary. Usage, from the repository root (the shared data is ../shared beside the checkout):
#   packages/cli/bench/presets.sh <name> <out-dir> <train flags…>
# e.g. (KolektorSDD as a folder dataset, MobileNetV1 0.75 ImageNet weights, seeded 50 % hold-out):
#   packages/cli/bench/presets.sh kolektor /tmp/presets --format folder \
#     --normal-dir ../shared/data/kolektorsdd/good --abnormal-dir ../shared/data/kolektorsdd/defect \
#     --mask-dir ../shared/data/kolektorsdd/masks --test-fraction 0.5 --seed 3407 \
#     --backbone mobilenet_v1_0.75 --weights ../shared/weights/mobilenet_v1_0.75_224 --image-size 128x320
# Extra per-preset flags come from PAPER_FLAGS / FAST_FLAGS (e.g. PAPER_FLAGS="--epochs 10" to
# shorten the paper preset on a CPU). PRESETS (default "fast paper") picks the presets, TAG names
# a variant (e.g. PRESETS=fast TAG=1layer FAST_FLAGS="--layers 1"). Appends one JSON line per run
# to <out-dir>/results.jsonl.
set -euo pipefail
name=$1; out=$2; shift 2
bin="$(cd "$(dirname "$0")/.." && pwd)/dist/bin.js"
mkdir -p "$out"
for preset in ${PRESETS:-fast paper}; do
  extra_var="$(echo "$preset" | tr a-z A-Z)_FLAGS"
  extra=${!extra_var:-}
  run="$out/$name-$preset${TAG:+-$TAG}"
  rm -rf "$run"
  start=$(date +%s.%N)
  # shellcheck disable=SC2086
  node "$bin" train --preset "$preset" --out "$run" --quiet "$@" $extra
  mid=$(date +%s.%N)
  node "$bin" eval --model "$run" --quiet > /dev/null
  end=$(date +%s.%N)
  node -e '
    const [name, preset, run, t0, t1, t2, flags] = process.argv.slice(1);
    const p = (f) => require(require("node:path").resolve(run, f));
    const m = p("report/metrics.json");
    const h = p("history.json");
    const r = p("run.json");
    console.log(JSON.stringify({ dataset: name, preset, tag: process.env.TAG || null, flags, epochs: r.epochsDone, layers: r.model.layers, hidden: r.model.hidden,
      image_size: r.model.imageSize, backbone: r.model.backbone, train_s: +(t1 - t0).toFixed(1), eval_s: +(t2 - t1).toFixed(1),
      train_s_per_epoch: +(h.reduce((s, e) => s + e.seconds, 0) / h.length).toFixed(2), image_auroc: m.mean.image.auroc,
      pixel_auroc: m.mean.pixel ? m.mean.pixel.auroc : null, aupro: m.mean.pixel ? m.mean.pixel.aupro : null,
      test_images: m.pooled.counts }));
  ' "$name" "$preset" "$run" "$start" "$mid" "$end" "$* $extra" | tee -a "$out/results.jsonl"
done
