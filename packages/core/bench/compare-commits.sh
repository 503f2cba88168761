#!/usr/bin/env bash
# Speed of this checkout against an older commit, measured in one run: builds <old-commit> in a
# temporary git worktree (npm ci + npm run build there), then alternates `rlr bench` of the old
# build and of this checkout (which must be built: npm run build) and prints, per preset, the
# median milliseconds per image of each and the ratio old / new (> 1: this checkout is faster).
# Alternating old and new within one run makes the ratios fair on a loaded, shared machine.
#
#   packages/core/bench/compare-commits.sh <old-commit> [--rounds 3] [--presets fast,paper]
#       [--iterations 2] [--warmup 2] [--workers auto] [--keep <dir>]
#
# --keep <dir>: build the old commit in <dir> and leave it there (reused when it already holds
# that commit's build), instead of a temporary worktree removed at the end.
set -euo pipefail

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ $# -ge 1 ] || usage
OLD=$1; shift
ROUNDS=3; PRESETS=fast,paper; ITER=2; WARMUP=2; WORKERS=auto; KEEP=
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2;;
    --presets) PRESETS=$2; shift 2;;
    --iterations) ITER=$2; shift 2;;
    --warmup) WARMUP=$2; shift 2;;
    --workers) WORKERS=$2; shift 2;;
    --keep) KEEP=$2; shift 2;;
    *) echo "compare-commits.sh: unknown option $1" >&2; usage;;
  esac
done

ROOT=$(git rev-parse --show-toplevel)
NEW_BIN=$ROOT/packages/cli/dist/bin.js
[ -f "$NEW_BIN" ] || { echo "compare-commits.sh: $NEW_BIN is missing; run npm run build in $ROOT first" >&2; exit 1; }
SHA=$(git -C "$ROOT" rev-parse --verify "$OLD^{commit}") || { echo "compare-commits.sh: $OLD is not a commit of this repository" >&2; exit 1; }

OUT=$(mktemp -d "${TMPDIR:-/tmp}/rlr-compare-XXXXXX")
if [ -n "$KEEP" ]; then TREE=$(realpath -m "$KEEP"); else TREE=$OUT/old; fi
cleanup() {
  if [ -z "$KEEP" ] && [ -d "$TREE" ]; then git -C "$ROOT" worktree remove --force "$TREE" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

if [ -f "$TREE/packages/cli/dist/bin.js" ] && [ "$(git -C "$TREE" rev-parse HEAD 2>/dev/null)" = "$SHA" ]; then
  echo "old build: reusing $TREE ($SHA)"
else
  echo "old build: $SHA in $TREE (npm ci + npm run build) …"
  git -C "$ROOT" worktree add --detach "$TREE" "$SHA" >/dev/null
  (cd "$TREE" && npm ci --no-audit --no-fund >"$OUT/old-npm-ci.log" 2>&1 && npm run build >"$OUT/old-build.log" 2>&1) ||
    { echo "compare-commits.sh: building $SHA failed, see $OUT/old-*.log" >&2; exit 1; }
fi
OLD_BIN=$TREE/packages/cli/dist/bin.js

echo "rounds $ROUNDS, presets $PRESETS, --iterations $ITER --warmup $WARMUP --workers $WORKERS; load average: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime)"
for r in $(seq 1 "$ROUNDS"); do
  for side in old new; do
    bin=$OLD_BIN; [ $side = new ] && bin=$NEW_BIN
    echo "round $r/$ROUNDS: $side …"
    RLR_OFFLINE=1 node "$bin" bench --backends wasm --presets "$PRESETS" --iterations "$ITER" --warmup "$WARMUP" \
      --workers "$WORKERS" --quiet --json "$OUT/$side-$r.json" >/dev/null
  done
done

node - "$OUT" "$ROUNDS" "$SHA" <<'EOF'
const fs = require('node:fs');
const [dir, rounds, sha] = process.argv.slice(2);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const rows = { old: [], new: [] };
for (const side of ['old', 'new']) for (let r = 1; r <= Number(rounds); r++) rows[side].push(...JSON.parse(fs.readFileSync(`${dir}/${side}-${r}.json`, 'utf8')));
const keys = [['extract_ms_per_image', 'extract'], ['train_step_ms_per_image', 'train step'], ['infer_ms_per_image', 'inference']];
const lines = [`| preset | ms per image | ${sha.slice(0, 7)} (old) | this checkout | old / new |`, '| --- | --- | ---: | ---: | ---: |'];
for (const preset of [...new Set(rows.new.map((r) => r.preset))]) {
  for (const [k, name] of keys) {
    const o = rows.old.filter((r) => r.preset === preset).map((r) => r[k]);
    const n = rows.new.filter((r) => r.preset === preset).map((r) => r[k]);
    const f = (xs) => `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
    lines.push(`| ${preset} | ${name} | ${f(o)} | ${f(n)} | ${(median(o) / median(n)).toFixed(2)}x |`);
  }
}
console.log(`\nmedian over ${rounds} alternating rounds (range in brackets); JSON rows in ${dir}\n`);
console.log(lines.join('\n'));
EOF
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime)"
