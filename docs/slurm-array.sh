#!/usr/bin/env bash
# A sharded surgesim sweep as a Slurm job array (see docs/shards.md).
#
#   jobid=$(sbatch --parsable docs/slurm-array.sh)
#   sbatch --dependency=afterok:"$jobid" --wrap \
#     "surgesim merge $OUT/sweep-shard-*-of-8 --out $OUT/sweep"
#
# One task per shard. The array is numbered 1..N, so SLURM_ARRAY_TASK_ID is
# the shard number K directly (with --array=0-7 use $((SLURM_ARRAY_TASK_ID + 1))).
# Keep the array size and N equal. Run from the repository root (or adjust
# SCENARIO) on a filesystem every node sees.
#SBATCH --job-name=surgesim-sweep
#SBATCH --array=1-8
#SBATCH --cpus-per-task=2
#SBATCH --mem=1G
#SBATCH --time=01:00:00
#SBATCH --output=slurm-%A_%a.out
set -euo pipefail

N=8
K=${SLURM_ARRAY_TASK_ID:?run this script with sbatch --array}
SCENARIO=${SCENARIO:-scenarios/incident-2025-07-25.toml}
OUT=${OUT:-notebooks-out/incident-2025-07-25}

export CI=true   # no progress bar in the log files
exec surgesim sweep "$SCENARIO" \
  --vary primary.workers=360..855:5 \
  --replications 20 \
  --threads "${SLURM_CPUS_PER_TASK:-1}" \
  --shard "$K/$N" \
  --out "$OUT/sweep-shard-$K-of-$N"
