#!/usr/bin/env bash
# A sharded surgesim sweep as a Slurm job array (see docs/shards.md).
#
#   jobid=$(sbatch --parsable docs/slurm-array.sh)
#   sbatch --dependency=afterok:"$jobid" --wrap \
#     "surgesim merge $OUT/sweep-shard-*-of-8 --out $OUT/sweep"
#
# One task per shard. The array is numbered 1..N, so SLURM_ARRAY_TASK_ID is
# the shard number K directly (with --array=0-7 use $((SLURM_ARRAY_TASK_ID + 1))).
# Run from the repository root (or set SCENARIO) on a filesystem every node sees.
#
# Settings come from the environment (sbatch passes it on); the defaults are
# the sweep of docs/shards.md:
#   SURGESIM      the binary                       (surgesim, from PATH)
#   SCENARIO      the scenario file                (scenarios/incident-2025-07-25.toml)
#   OUT           where the part folders go        (notebooks-out/incident-2025-07-25)
#   SHARDS        N, the number of shards          (8; keep it equal to the array size)
#   VARY          the --vary arguments, space-separated (primary.workers=360..855:5)
#   REPLICATIONS  --replications                   (20)
# For another N, override the array on the command line too:
#   SHARDS=4 sbatch --array=1-4 docs/slurm-array.sh
#SBATCH --job-name=surgesim-sweep
#SBATCH --array=1-8
#SBATCH --cpus-per-task=2
#SBATCH --mem=1G
#SBATCH --time=01:00:00
#SBATCH --output=slurm-%A_%a.out
set -euo pipefail

SURGESIM=${SURGESIM:-surgesim}
SCENARIO=${SCENARIO:-scenarios/incident-2025-07-25.toml}
OUT=${OUT:-notebooks-out/incident-2025-07-25}
N=${SHARDS:-8}
VARY=${VARY:-primary.workers=360..855:5}
REPLICATIONS=${REPLICATIONS:-20}
K=${SLURM_ARRAY_TASK_ID:?run this script with sbatch --array}

# An array larger or smaller than N would skip shards or run one twice.
if [ -n "${SLURM_ARRAY_TASK_COUNT:-}" ] && [ "$SLURM_ARRAY_TASK_COUNT" != "$N" ]; then
  echo "slurm-array.sh: the array has $SLURM_ARRAY_TASK_COUNT tasks but SHARDS=$N" >&2
  exit 2
fi

vary=()
for v in $VARY; do vary+=(--vary "$v"); done

export CI=true   # no progress bar in the log files
exec "$SURGESIM" sweep "$SCENARIO" \
  "${vary[@]}" \
  --replications "$REPLICATIONS" \
  --threads "${SLURM_CPUS_PER_TASK:-1}" \
  --shard "$K/$N" \
  --out "$OUT/sweep-shard-$K-of-$N"
