#!/usr/bin/env bash
# Compares the pretext methods at one equal budget: each method pretrains the
# same backbone for STEPS optimizer steps of 16 videos, then its frozen
# features are linear-probed at 2 labels per class for each seed (label
# draw), beside a random-init backbone probed the same way; the last column
# is the gain over that baseline paired by seed. Prints one markdown row
# per method: views per video, steps, wall seconds, the final epoch's pretext
# accuracy (with chance) and loss, and the probe's test video top-1.
#
# Usage: bench/pretext_table.sh DATA OUT [STEPS]
#   DATA   dataset directory (UCF101 layout with unlabeled videos, such as the
#          one `vidrep demo` writes)
#   OUT    directory for the runs (OUT/<method>, OUT/<method>-lin-<seed>,
#          OUT/<method>-ft-<seed>)
#   STEPS  optimizer steps per method (default 300)
# Environment: VIDREP (binary, default bin/vidrep), METHODS (space-separated
# subset, default all), SEEDS (label draws probed, default "0 1 2"),
# FINETUNE=1 (also fine-tune each backbone at 2 labels per class with the
# demo's settings: 12 epochs, batch 8, lr 2e-3; two more columns), VIDEOS (unlabeled videos, default: lines of
# DATA/unlabeled.txt; sets the epochs so that STEPS is reached), PROBE_WD
# (the linear probes' L2 penalty, default: finetune's own default),
# PRETRAIN_SEED (seed of every pretraining, default 0), PRETRAIN_ARGS (more
# `vidrep pretrain` flags for every method, such as "--warmup 50" or "--size 22";
# the probes always read 32-pixel clips),
# ARCH (backbone of every method but videomae, default r3d-small-res, the demo's),
# FRAMES (frames of every clip, default 4, the demo's), STRIDE (temporal stride of every clip, default 3, the demo's),
# EVAL_CLIPS (test clips per video of every probe, default 2; the demo's 5;
# probes with another count than 2 go to OUT/<method>-lin-<seed>-c<count>, so
# that one OUT can hold both).
# Resumable: a method whose OUT/<method>/summary.json exists is not pretrained
# again and a probe whose result.json exists is not rerun; a run cut off
# half-way is deleted and started over. A method that fails to pretrain gets a
# row with the error's last line (OUT/<method>.log holds the whole output).
set -euo pipefail
cd "$(dirname "$0")/.."

[[ $# -ge 2 && $# -le 3 ]] || { sed -n '10,15p' "$0" >&2; exit 2; }
DATA=$1 OUT=$2 STEPS=${3:-300}
BIN=${VIDREP:-bin/vidrep}
BATCH=16
SEEDS=(${SEEDS:-0 1 2})
METHODS=(${METHODS:-none pan camera flowstats speed vcop rotation arrow simclr moco byol order odd-one-out videomae})
[[ -x $BIN ]] || { echo "pretext_table: no binary $BIN; run make build" >&2; exit 1; }
[[ -d $DATA ]] || { echo "pretext_table: no dataset directory $DATA" >&2; exit 1; }
VIDEOS=${VIDEOS:-$(wc -l <"$DATA/unlabeled.txt")}
EPOCHS=$(((STEPS * BATCH + VIDEOS - 1) / VIDEOS + 1))
CLIP=(--frames "${FRAMES:-4}" --stride "${STRIDE:-3}" --size 32)
EVAL_CLIPS=${EVAL_CLIPS:-2}
TAG="" # suffix of the probe directories
[[ $EVAL_CLIPS == 2 ]] || TAG=-c$EVAL_CLIPS
mkdir -p "$OUT"

# views and chance of each method's pretext accuracy (batch 16; MoCo's queue
# is half of the videos; flowstats' accuracy is the mean over its five targets,
# whose chances are 1/8 and four times 1/2; camflow's is the mean of camera's
# and flowstats').
declare -A VIEWS=([pan]=1 [camera]=1 [flowstats]=1 [camflow]=1 [speed]=1 [vcop]=3 [rotation]=1 [arrow]=1 [simclr]=2
	[moco]=2 [byol]=2 [order]=3 [odd-one-out]=4 [videomae]=1)
declare -A CHANCE=([pan]=1/8 [camera]=1/12 [flowstats]=0.425 [camflow]=0.254 [speed]=1/4 [vcop]=1/6 [rotation]=1/4 [arrow]=1/2
	[order]=1/2 [odd-one-out]=1/4 [simclr]=1/$((2 * BATCH - 1)) [moco]=1/$((VIDEOS / 2 + 1)))

arch_of() { [[ $1 == videomae || $1 == none-vit-micro ]] && echo vit-micro || echo "${ARCH:-r3d-small-res}"; }

# pretrain METHOD: runs and times the pretraining unless it is already done.
pretrain() {
	local m=$1 dir=$OUT/$1 t0 t1
	[[ -f $dir/summary.json && -f $dir/wall_s ]] && return 0
	rm -rf "$dir" "$dir.error"
	t0=$(date +%s.%N)
	if ! "$BIN" pretrain --data "$DATA" --method "$m" --arch "$(arch_of "$m")" "${CLIP[@]}" \
		--batch $BATCH --lr 2e-3 --no-flip --steps "$STEPS" --epochs "$EPOCHS" --seed "${PRETRAIN_SEED:-0}" ${PRETRAIN_ARGS:-} \
		--out "$dir" --quiet >"$dir.log" 2>&1; then
		grep -v '^\s*$' "$dir.log" | tail -1 >"$dir.error"
		return 1
	fi
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc >"$dir/wall_s"
}

# probe NAME SEED KIND: linear probe (KIND lin) or fine-tuning (KIND ft) of
# OUT/NAME's backbone (random init for the none rows), unless its
# result.json exists.
probe() {
	local name=$1 s=$2 kind=$3 dir=$OUT/$1-$3-$2$TAG init how
	[[ -f $dir/result.json ]] && return 0
	rm -rf "$dir"
	# the clip settings are explicit for every backbone, so that one
	# pretrained at another size (PRETRAIN_ARGS="--size 22") is probed on
	# the same 32-pixel clips as the others
	init=(--init "$OUT/$name" "${CLIP[@]}")
	[[ $name == none* ]] && init=(--init scratch --arch "$(arch_of "$name")" "${CLIP[@]}")
	how=(--linear)
	[[ -n ${PROBE_WD:-} ]] && how+=(--probe-weight-decay "$PROBE_WD")
	[[ $kind == ft ]] && how=(--epochs 12 --batch 8 --lr 2e-3)
	"$BIN" finetune --data "$DATA" "${init[@]}" "${how[@]}" --labels 2/class --seed "$s" \
		--no-flip --eval-clips "$EVAL_CLIPS" --eval-crops 1 --out "$dir" --quiet >"$dir.log" 2>&1 ||
		{ echo "pretext_table: $kind $name seed $s failed, see $dir.log" >&2; return 1; }
}

# probes NAME: every probe the table shows for NAME.
probes() {
	local s
	for s in "${SEEDS[@]}"; do
		probe "$1" "$s" lin
		[[ ${FINETUNE:-0} == 1 ]] && probe "$1" "$s" ft
	done
	return 0
}

# top1 NAME KIND SEED: the test video top-1 in percent.
top1() { jq '.test.video.top1 * 100' "$OUT/$1-$2-$3$TAG/result.json"; }

# probe_cell NAME KIND: "mean ± std (a, b, c)" of the test video top-1 in percent.
probe_cell() {
	local s vals=()
	for s in "${SEEDS[@]}"; do vals+=("$(top1 "$1" "$2" "$s")"); done
	printf '%s\n' "${vals[@]}" | awk '{v[NR]=$1; m+=$1} END {m/=NR; for (i in v) q+=(v[i]-m)^2;
		printf "%.1f ± %.1f (", m, (NR>1 ? sqrt(q/(NR-1)) : 0); for (i=1;i<=NR;i++) printf "%s%.1f", (i>1?", ":""), v[i]; printf ")"}'
}

# gain_cell NAME BASE KIND: "mean ± std" over seeds of NAME's top-1 minus
# BASE's (same label draw), or "–" when BASE was not probed.
gain_cell() {
	local s vals=()
	for s in "${SEEDS[@]}"; do
		[[ -f $OUT/$2-$3-$s$TAG/result.json ]] || { echo "–"; return; }
		vals+=("$(echo "$(top1 "$1" "$3" "$s") - $(top1 "$2" "$3" "$s")" | bc -l)")
	done
	printf '%s\n' "${vals[@]}" | awk '{v[NR]=$1; m+=$1} END {m/=NR; for (i in v) q+=(v[i]-m)^2;
		printf "%+.1f ± %.1f", m, (NR>1 ? sqrt(q/(NR-1)) : 0)}'
}

# result_cells NAME BASE: the linear (and fine-tune) columns of a row.
result_cells() {
	local cells="$(probe_cell "$1" lin) | $(if [[ $1 == "$2" ]]; then echo –; else gain_cell "$1" "$2" lin; fi)"
	if [[ ${FINETUNE:-0} == 1 ]]; then
		cells+=" | $(probe_cell "$1" ft) | $(if [[ $1 == "$2" ]]; then echo –; else gain_cell "$1" "$2" ft; fi)"
	fi
	echo "$cells"
}

# pretext_cells METHOD: "accuracy (chance) | loss" from the last epoch record.
pretext_cells() {
	local m=$1 rec acc loss
	rec=$(grep '"kind":"epoch"' "$OUT/$m/metrics.jsonl" | tail -1)
	[[ -n $rec ]] || rec=$(jq -c . "$OUT/$m/summary.json")
	loss=$(jq -r '.loss | . * 10000 | round / 10000' <<<"$rec")
	acc=$(jq -r 'if .accuracy == null then "" else (.accuracy * 1000 | round / 1000 | tostring) end' <<<"$rec")
	case $m in
	byol | videomae) acc="none (no accuracy)" ;;
	simclr | moco) acc="instance acc $acc (chance ${CHANCE[$m]:-?})" ;;
	*) acc="$acc (chance ${CHANCE[$m]:-?})" ;;
	esac
	echo "$acc | $loss"
}

header="| method | backbone | views per video | steps | wall s | final pretext accuracy (chance) | final loss | linear 2/class top-1 % ($EVAL_CLIPS test clips), mean ± std (seeds ${SEEDS[*]}) | linear gain over random init, paired by seed |"
rule="|---|---|---|---|---|---|---|---|---|"
if [[ ${FINETUNE:-0} == 1 ]]; then
	header+=" fine-tune 2/class top-1 % | fine-tune gain, paired |"
	rule+="---|---|"
fi
echo "$header"
echo "$rule"
row_none() {
	probes "$1"
	echo "| $1 (random init) | $(arch_of "$1") | – | 0 | – | – | – | $(result_cells "$1" "$1") |"
}
for m in "${METHODS[@]}"; do
	if [[ $m == none ]]; then
		row_none none
		continue
	fi
	if ! pretrain "$m"; then
		empty="– | – | –"
		[[ ${FINETUNE:-0} == 1 ]] && empty+=" | – | –"
		echo "| $m | $(arch_of "$m") | ${VIEWS[$m]:-?} | – | – | failed: $(sed 's/|/\\|/g' "$OUT/$m.error") | $empty |"
		continue
	fi
	probes "$m"
	steps=$(jq .steps "$OUT/$m/summary.json")
	base=none
	[[ $(arch_of "$m") == vit-micro ]] && base=none-vit-micro
	# videomae trains another backbone: probe its own random-init baseline first.
	[[ $base == none-vit-micro ]] && probes "$base"
	printf '| %s | %s | %s | %s | %.0f | %s | %s |\n' "$m" "$(arch_of "$m")" "${VIEWS[$m]:-?}" "$steps" \
		"$(cat "$OUT/$m/wall_s")" "$(pretext_cells "$m")" "$(result_cells "$m" "$base")"
	if [[ $m == videomae ]]; then row_none none-vit-micro; fi
done
