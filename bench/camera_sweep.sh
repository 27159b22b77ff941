#!/usr/bin/env bash
# Screens camera pretraining settings on a validation draw of the benchmark:
# each configuration pretrains r3d-small-res (frames 4, stride 3, size 32,
# no flips) once per pretraining seed, then linear-probes it at 2 labels per
# class for label draws 0-9 (weight decay 1, 5 test clips, 1 crop: the demo's
# probe), beside random-init probes on the same draws. Runs JOBS units (one
# pretraining and its probes) at a time, so that a GPU or a many-core machine
# is kept busy, and starts no unit after DEADLINE seconds. Prints, and writes
# to OUT/sweep.tsv, one row per finished probe; OUT/summary.txt has each
# configuration's mean paired gain over random init.
#
# Usage: bench/camera_sweep.sh DATA OUT
# Environment: VIDREP (binary, default bin/vidrep), ENVSH (script to source
# first, such as .gpu/xla-cuda-env.sh), CONFIGS (names to run, default all
# below, in that order), SEEDS (pretraining seeds, default "0 1 2 3"; every
# configuration gets the first two before any gets the rest), DRAWS (label
# draws, default 0-9), JOBS (units at a time, default 8), DEADLINE (seconds
# after which no unit starts, default 480; no probe starts after twice that),
# SCALE (multiplies every step count, for a quick check of the script,
# default 1). OUT must not contain spaces.
set -uo pipefail
[[ $# -eq 2 ]] || { sed -n 12,20p "$0" >&2; exit 2; }
# Paths as given are relative to where the script was called from.
DATA=$(realpath "$1") OUT=$(realpath -m "$2")
[[ -n ${ENVSH:-} ]] && ENVSH=$(realpath "$ENVSH")
[[ -n ${VIDREP:-} ]] && VIDREP=$(realpath "$VIDREP")
cd "$(dirname "$0")/.."
BIN=${VIDREP:-$(realpath bin/vidrep)}
[[ -x $BIN ]] || { echo "camera_sweep: no binary $BIN; run make build" >&2; exit 1; }
for f in unlabeled.txt trainlist01.txt; do
	[[ -s $DATA/$f ]] || { echo "camera_sweep: $DATA/$f is missing; DATA must be a UCF101-layout benchmark such as vidrep synth writes" >&2; exit 1; }
done
[[ $OUT == *" "* ]] && { echo "camera_sweep: OUT must not contain spaces" >&2; exit 1; }
[[ -n ${ENVSH:-} ]] && . "$ENVSH"
[[ ${GOMLX_BACKEND:-} == xla:* ]] && export GOMLX_BACKEND="$GOMLX_BACKEND,preallocate=false"
SEEDS=(${SEEDS:-0 1 2 3})
DRAWS=(${DRAWS:-0 1 2 3 4 5 6 7 8 9})
JOBS=${JOBS:-8} DEADLINE=${DEADLINE:-480} SCALE=${SCALE:-1}
mkdir -p "$OUT"
START=$(date +%s)

# name -> "batch steps lr weight-decay [more pretrain flags]"; A is the
# demo's setting, I and J cost more than the demo can spend.
declare -A CFG=(
	[A]="16 1134 2e-3 1e-4" [B]="16 1134 1e-3 1e-4" [C]="16 1134 4e-3 1e-4" [D]="16 1134 8e-3 1e-4"
	[E]="16 1134 2e-3 0.05" [F]="8 2268 2e-3 1e-4" [G]="32 567 4e-3 1e-4" [H]="16 1134 2e-3 1e-4 --with-train"
	[I]="16 2268 2e-3 1e-4" [J]="16 4536 2e-3 1e-4"
)
CONFIGS=(${CONFIGS:-A B C D E F G H I J})
for c in "${CONFIGS[@]}"; do
	[[ -n ${CFG[$c]:-} ]] || { echo "camera_sweep: no configuration $c (known: ${!CFG[*]})" >&2; exit 2; }
done
CLIP=(--arch r3d-small-res --frames 4 --stride 3 --size 32)
VIDEOS=$(wc -l <"$DATA/unlabeled.txt")
TRAIN=$(wc -l <"$DATA/trainlist01.txt")

# probe INIT DIR DRAW: one linear probe unless its result exists.
probe() {
	[[ -f $2/result.json ]] && return 0
	(($(date +%s) - START < 2 * DEADLINE)) || return 0
	rm -rf "$2"
	"$BIN" finetune --data "$DATA" $1 --linear --probe-weight-decay 1 --labels 2/class --seed "$3" --no-flip \
		--eval-clips 5 --eval-crops 1 --workers 2 --out "$2" --quiet >"$2.log" 2>&1
}

# unit NAME SEED: pretrains configuration NAME with SEED, then probes it.
unit() {
	local name=$1 seed=$2 dir=$OUT/$1-s$2
	(($(date +%s) - START < DEADLINE)) || return 0
	if [[ $name == none ]]; then
		for d in "${DRAWS[@]}"; do probe "--init scratch ${CLIP[*]}" "$OUT/none-lin-$d" "$d"; done
		return 0
	fi
	read -r batch steps lr wd more <<<"${CFG[$name]}"
	steps=$(awk -v n="$steps" -v k="$SCALE" 'BEGIN { n = int(n * k); print (n < 2 ? 2 : n) }')
	local videos=$VIDEOS
	[[ $more == *--with-train* ]] && videos=$((VIDEOS + TRAIN))
	local epochs=$(((steps + videos / batch - 1) / (videos / batch)))
	if [[ ! -f $dir/summary.json ]]; then
		rm -rf "$dir"
		local t0=$(date +%s.%N)
		"$BIN" pretrain --data "$DATA" --method camera "${CLIP[@]}" --batch "$batch" --lr "$lr" --weight-decay "$wd" \
			--no-flip --steps "$steps" --epochs "$epochs" --seed "$seed" --workers 2 $more --out "$dir" --quiet \
			>"$dir.log" 2>&1 || return 0
		awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { print a - b }' >"$dir/wall_s"
	fi
	for d in "${DRAWS[@]}"; do probe "--init $dir" "$dir-lin-$d" "$d"; done
	echo "$(date +%T) $name seed $seed done ($(($(date +%s) - START)) s)"
}
export -f unit probe
export OUT DATA BIN START DEADLINE SCALE VIDEOS TRAIN
export CLIP_S="${CLIP[*]}" DRAWS_S="${DRAWS[*]}" CFG_S="$(declare -p CFG)"

# Units in priority order: random init, every configuration's first two
# seeds, then the rest.
{
	echo none 0
	for s in "${SEEDS[@]:0:2}"; do for c in "${CONFIGS[@]}"; do echo "$c $s"; done; done
	for s in "${SEEDS[@]:2}"; do for c in "${CONFIGS[@]}"; do echo "$c $s"; done; done
} | xargs -P "$JOBS" -L 1 bash -c 'eval "$CFG_S"; CLIP=($CLIP_S); DRAWS=($DRAWS_S); unit "$0" "$1"'

python3 - "$OUT" <<'PY' | tee "$OUT/summary.txt"
import glob, json, os, re, statistics as st, sys
out = sys.argv[1]
rows, base = [], {}
for p in sorted(glob.glob(os.path.join(out, "*-lin-*", "result.json"))):
    name = os.path.basename(os.path.dirname(p))
    m = re.match(r"(none|(\w+)-s(\d+))-lin-(\d+)$", name)
    top1 = json.load(open(p))["test"]["video"]["top1"] * 100
    if m.group(1) == "none":
        base[int(m.group(4))] = top1
    else:
        rows.append((m.group(2), int(m.group(3)), int(m.group(4)), top1))
with open(os.path.join(out, "sweep.tsv"), "w") as f:
    f.write("config\tpretrain_seed\tdraw\ttop1\tscratch_top1\n")
    for c, s, d, t in rows:
        f.write(f"{c}\t{s}\t{d}\t{t:.2f}\t{base.get(d, float('nan')):.2f}\n")
print("config  seed  draws  pretext_acc  wall_s  top1  gain")
for c in sorted({r[0] for r in rows}):
    per_seed = []
    for s in sorted({r[1] for r in rows if r[0] == c}):
        got = [(t, base[d]) for cc, ss, d, t in rows if cc == c and ss == s and d in base]
        if not got:
            print(f"{c:6s}  {s:4d}  no probe with a random-init probe of the same draw")
            continue
        gain = st.mean(t - b for t, b in got)
        acc = wall = float("nan")
        run = os.path.join(out, f"{c}-s{s}")
        try:
            acc = json.load(open(os.path.join(run, "summary.json"))).get("accuracy", float("nan"))
            wall = float(open(os.path.join(run, "wall_s")).read())
        except (OSError, ValueError):
            pass
        per_seed.append(gain)
        print(f"{c:6s}  {s:4d}  {len(got):5d}  {acc:11.3f}  {wall:6.0f}  {st.mean(t for t, _ in got):5.1f}  {gain:+5.1f}")
    if not per_seed:
        continue
    sd = st.stdev(per_seed) if len(per_seed) > 1 else 0
    print(f"{c:6s}  mean over {len(per_seed)} seeds: gain {st.mean(per_seed):+.1f} (sd {sd:.1f})")
if base:
    print(f"random init: {st.mean(base.values()):.1f} over {len(base)} draws")
PY
