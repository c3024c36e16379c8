#!/usr/bin/env bash
# A real Slurm run of a sharded sweep (docs/shards.md).
#
# Installs Slurm and munge from the distribution's packages when missing,
# starts a one-node cluster on this machine (a private munged, slurmctld and
# slurmd, configured in a temporary folder), submits docs/slurm-array.sh as
# an array of 4 shards over a small sweep, waits for it, joins the parts with
# `surgesim merge` and compares every merged file byte for byte with an
# unsharded `surgesim sweep` of the same grid. Stops every daemon it started.
#
# Usage: tests/slurm/run.sh          (as root, or with Slurm already installed)
# Env:   SURGESIM=path/to/binary     (default: target/release/surgesim, built if missing)
#        SLURM_TIMEOUT=seconds       (how long to wait for the array; default 600)
#        KEEP=1                      (keep the temporary folder and its logs)
# Exit:  0 all checks passed; 77 a cluster could not be started here (the
#        reason is printed); 1 a check failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

SHARDS=4
# A fixed pool under a 3x surge: failures differ at every one of the 14 points.
SCENARIO=scenarios/spike-3x.toml
VARY="primary.workers=500..800:50 primary.calls_per_worker=16..20:4"
REPLICATIONS=3
TIMEOUT=${SLURM_TIMEOUT:-600}

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "  ok   $*"; }
fail() { failed=$((failed + 1)); echo "  FAIL $*"; }
note() { echo "slurm: $*"; }

T=""
PIDS=()
JOBID=""

stop_all() {
  set +e
  if [ -n "$JOBID" ] && [ -n "$T" ]; then
    scancel "$JOBID" >/dev/null 2>&1
  fi
  # Newest first: slurmd, slurmctld, then munged.
  local i pid
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[$i]}
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  PIDS=()
  if [ -n "$T" ]; then
    if [ "${KEEP:-0}" = 1 ]; then note "kept $T"; else rm -rf "$T"; fi
  fi
}
trap stop_all EXIT
trap 'echo "slurm: unexpected failure at line $LINENO" >&2' ERR
trap 'exit 130' INT TERM

show_logs() {
  local f
  for f in "$T"/log/*; do
    [ -s "$f" ] || continue
    echo "---- last lines of ${f#"$T"/}"
    tail -n 15 "$f"
  done
}

# Exit 77: no cluster on this machine, with the reason.
cannot_start() {
  note "cannot start a cluster here: $*"
  [ -n "$T" ] && [ -d "$T/log" ] && show_logs
  note "0 passed, 0 failed (no cluster)"
  exit 77
}

# ---- 1. Slurm and munge --------------------------------------------------
need=()
for cmd in munged mungekey slurmctld slurmd sbatch squeue sinfo scontrol scancel; do
  command -v "$cmd" >/dev/null 2>&1 || need+=("$cmd")
done
if [ ${#need[@]} -gt 0 ]; then
  note "installing slurm-wlm and munge (missing: ${need[*]})"
  [ "$(id -u)" = 0 ] || cannot_start "not root, and ${need[*]} not installed (apt-get install slurm-wlm munge)"
  command -v apt-get >/dev/null || cannot_start "no apt-get to install ${need[*]}"
  # Keep the packages' init scripts from starting system daemons.
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
  fi
  apt_log=$(mktemp)
  ok=1
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update >"$apt_log" 2>&1 &&
    apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends slurm-wlm munge >>"$apt_log" 2>&1 || ok=0
  [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  if [ "$ok" = 0 ]; then
    tail -n 20 "$apt_log"
    rm -f "$apt_log"
    cannot_start "apt-get install slurm-wlm munge failed"
  fi
  rm -f "$apt_log"
fi

# ---- 2. The binary -------------------------------------------------------
BIN=${SURGESIM:-$ROOT/target/release/surgesim}
if [ ! -x "$BIN" ]; then
  note "building $BIN"
  cargo build --release --locked -q
fi
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")

# ---- 3. A one-node cluster in a temporary folder --------------------------
T=$(mktemp -d "${TMPDIR:-/tmp}/surgesim-slurm.XXXXXX")
chmod 755 "$T"
mkdir -p "$T/munge" "$T/log" "$T/state" "$T/spool" "$T/jobs" "$T/out"
chmod 755 "$T/munge"

# munged: a private key and socket, so no system munge is touched.
mungekey --create --keyfile="$T/munge/munge.key" >"$T/log/mungekey" 2>&1 ||
  cannot_start "mungekey --create failed"
chmod 600 "$T/munge/munge.key"
munged --foreground --force \
  --key-file="$T/munge/munge.key" --socket="$T/munge/munge.socket" \
  --pid-file="$T/munge/munged.pid" --seed-file="$T/munge/munge.seed" \
  --log-file="$T/log/munged" >>"$T/log/munged" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [ -S "$T/munge/munge.socket" ] && break; sleep 0.1; done
[ -S "$T/munge/munge.socket" ] || cannot_start "munged did not create its socket"

# Two free TCP ports on localhost for slurmctld and slurmd.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ports=()
for p in $(seq 26817 26999); do
  port_free "$p" && ports+=("$p")
  [ ${#ports[@]} -ge 2 ] && break
done
[ ${#ports[@]} -ge 2 ] || cannot_start "no free port in 26817..26999"

# The node as slurmd sees it (CPUs, sockets, cores, memory).
NODE=$(slurmd -C 2>"$T/log/slurmd-C" | sed -n 's/^\(NodeName=.*\)$/\1/p' | head -n 1 | sed 's/ UpTime=.*//') || true
[ -n "$NODE" ] || cannot_start "slurmd -C printed no node description: $(tail -n 3 "$T/log/slurmd-C")"
# This host's short name, which slurmctld and slurmd both check.
HOST=$(sed 's/^NodeName=\([^ ]*\).*/\1/' <<<"$NODE")
CONF=$T/slurm.conf
cat >"$CONF" <<EOF
ClusterName=surgesim-test
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=${ports[0]}
SlurmdPort=${ports[1]}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$T/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld
SlurmdLogFile=$T/log/slurmd
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
MinJobAge=3600
$NODE NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$CONF

slurmctld -D -i -f "$CONF" >>"$T/log/slurmctld.out" 2>&1 &
PIDS+=($!)
# slurmctld must answer before slurmd registers with it.
up=0
for _ in $(seq 100); do
  kill -0 "${PIDS[-1]}" 2>/dev/null || break
  scontrol ping 2>/dev/null | grep -q 'is UP' && { up=1; break; }
  sleep 0.2
done
[ "$up" = 1 ] || cannot_start "slurmctld did not come up"
slurmd -D -f "$CONF" >>"$T/log/slurmd.out" 2>&1 &
PIDS+=($!)
idle=0
for _ in $(seq 150); do
  kill -0 "${PIDS[-1]}" 2>/dev/null || break
  state=$(sinfo -h -N -o %T 2>/dev/null | head -n 1) || true
  [ "$state" = idle ] && { idle=1; break; }
  sleep 0.2
done
[ "$idle" = 1 ] || cannot_start "node $HOST did not become idle (state: ${state:-none})"
note "cluster up ($(scontrol --version)): $(sinfo -h -N -o '%N %T, %c CPUs, %m MB')"

# ---- 4. The array job ------------------------------------------------------
started=$(date +%s)
export SURGESIM=$BIN SCENARIO OUT=$T/out SHARDS VARY REPLICATIONS
# One CPU a task, so the tasks share the node; the logs go to the temp folder.
if ! JOBID=$(sbatch --parsable --array=1-$SHARDS --cpus-per-task=1 --mem=256M \
  --output="$T/jobs/%A_%a.out" docs/slurm-array.sh 2>"$T/log/sbatch"); then
  cat "$T/log/sbatch"
  cannot_start "sbatch refused the array job"
fi
JOBID=${JOBID%%;*}
note "submitted array job $JOBID ($SHARDS tasks)"
done_=0
while [ $(($(date +%s) - started)) -lt "$TIMEOUT" ]; do
  if [ -z "$(squeue -h -j "$JOBID" 2>/dev/null)" ]; then done_=1; break; fi
  sleep 1
done
if [ "$done_" = 1 ]; then
  pass "array job $JOBID left the queue after $(($(date +%s) - started)) s"
else
  fail "array job $JOBID still queued after $TIMEOUT s"
  squeue -j "$JOBID" || true
fi

# Each task: COMPLETED with exit code 0.
for k in $(seq "$SHARDS"); do
  info=$(scontrol -o show job "${JOBID}_$k" 2>/dev/null || true)
  st=$(grep -o 'JobState=[A-Z_]*' <<<"$info" | head -n 1) || true
  ec=$(grep -o ' ExitCode=[0-9:]*' <<<"$info" | head -n 1) || true
  if [ "$st" = JobState=COMPLETED ] && [ "$ec" = " ExitCode=0:0" ]; then
    pass "task $k: ${st#JobState=}, exit ${ec# ExitCode=}"
  else
    fail "task $k: ${st:-no state}${ec:+,$ec}"
    for f in "$T/jobs/${JOBID}_$k.out"; do [ -f "$f" ] && tail -n 20 "$f"; done
  fi
done

for k in $(seq "$SHARDS"); do
  part=$T/out/sweep-shard-$k-of-$SHARDS
  if [ -s "$part/manifest.json" ] && [ -f "$part/sweep.part.csv" ]; then
    pass "part $k/$SHARDS written"
  else
    fail "part $k/$SHARDS missing ($part)"
  fi
done

# ---- 5. Merge and compare with the unsharded sweep ------------------------
vary=()
for v in $VARY; do vary+=(--vary "$v"); done
if CI=true "$BIN" merge "$T"/out/sweep-shard-*-of-$SHARDS --out "$T/merged" >"$T/log/merge" 2>&1; then
  pass "surgesim merge"
else
  fail "surgesim merge: $(tail -n 5 "$T/log/merge")"
fi
if CI=true "$BIN" sweep "$SCENARIO" "${vary[@]}" --replications "$REPLICATIONS" \
  --out "$T/unsharded" >"$T/log/unsharded" 2>&1; then
  pass "unsharded surgesim sweep"
else
  fail "unsharded surgesim sweep: $(tail -n 5 "$T/log/unsharded")"
fi
if [ -d "$T/merged" ] && [ -d "$T/unsharded" ]; then
  merged_files=$(cd "$T/merged" && ls)
  unsharded_files=$(cd "$T/unsharded" && ls)
  if [ "$merged_files" = "$unsharded_files" ]; then
    pass "same files: $(echo $merged_files)"
  else
    fail "files differ: merged [$(echo $merged_files)] unsharded [$(echo $unsharded_files)]"
  fi
  for f in $unsharded_files; do
    if cmp -s "$T/merged/$f" "$T/unsharded/$f"; then
      pass "$f byte-identical ($(wc -c <"$T/unsharded/$f") bytes)"
    else
      fail "$f differs from the unsharded sweep's"
      diff "$T/merged/$f" "$T/unsharded/$f" | head -n 10 || true
    fi
  done
  rows=$(($(cat "$T/unsharded/sweep.csv" 2>/dev/null | wc -l) - 1))
  if [ "$rows" -gt "$SHARDS" ]; then
    pass "sweep.csv has $rows points (more than $SHARDS shards)"
  else
    fail "sweep.csv has $rows points"
  fi
fi

[ "$failed" = 0 ] || show_logs
echo "slurm: $passed passed, $failed failed"
if [ "$failed" = 0 ]; then exit 0; else exit 1; fi
