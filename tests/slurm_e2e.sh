#!/usr/bin/env bash
# End-to-end test of `trainsim sweep --slurm` against a real Slurm: installs slurm-wlm and munge from
# Debian when missing (needs root), starts munged, slurmctld and slurmd on localhost with a generated
# slurm.conf (private ports and directories), submits the job array, waits (with a timeout), merges the
# shards and compares the result files byte for byte with a local run of the same sweep; stops the daemons.
# Exit 77 (ctest: skipped) with a reason only where this machine cannot run the daemons.
# Usage: slurm_e2e.sh /path/to/trainsim
set -uo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
sweepfile=$root/tests/sweep/llama8b-parallelism.sweep.json
skip() { echo "SKIPPED: $*"; exit 77; }

# .ci/run installs the extras in the background during the builds, holding TRAINSIM_APT_LOCK: wait for it.
if [ -n "${TRAINSIM_APT_LOCK:-}" ] && [ -e "$TRAINSIM_APT_LOCK" ] && command -v flock >/dev/null; then
  flock "$TRAINSIM_APT_LOCK" true
fi
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
  [ "$(id -u)" -eq 0 ] || skip "slurm-wlm and munge are not installed and installing them needs root"
  command -v apt-get >/dev/null || skip "slurm-wlm and munge are not installed and there is no apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends slurm-wlm munge >/tmp/trainsim_slurm_apt.log 2>&1 ||
    { apt-get update >>/tmp/trainsim_slurm_apt.log 2>&1 && apt-get install -y --no-install-recommends slurm-wlm munge >>/tmp/trainsim_slurm_apt.log 2>&1; } ||
    skip "apt-get install slurm-wlm munge failed (see /tmp/trainsim_slurm_apt.log)"
fi
[ "$(id -u)" -eq 0 ] || skip "slurmd must run as root to launch jobs; run this test as root (CI does)"

work=$(mktemp -d /tmp/trainsim_slurm.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
  done
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work"/{state,spool,munge,job}
chmod 700 "$work/munge"

# munge: a private key and socket.
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$work/munge/munge.key"
munged --force --key-file="$work/munge/munge.key" --socket="$work/munge/munge.sock" \
  --pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" --seed-file="$work/munge/munged.seed" \
  >/dev/null 2>&1 || skip "munged does not start here: $(tail -2 "$work/munge/munged.log" 2>/dev/null)"
for _ in $(seq 1 50); do [ -s "$work/munge/munged.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$work/munge/munged.pid")")

host=$(hostname -s)
cpus=$(nproc)
port=$((20000 + RANDOM % 20000))
cat >"$work/slurm.conf" <<CONF
ClusterName=trainsimtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/munge.sock
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=trainsim1 NodeHostname=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=trainsim1 Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$work/slurm.conf
slurmctld -f "$SLURM_CONF" -D >"$work/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -f "$SLURM_CONF" -N trainsim1 -D >"$work/slurmd.out" 2>&1 &
pids+=($!)
up=0
for _ in $(seq 1 120); do
  if sinfo -h -N -o "%T" 2>/dev/null | grep -qE "^(idle|mixed|allocated)"; then up=1; break; fi
  kill -0 "${pids[1]}" 2>/dev/null && kill -0 "${pids[2]}" 2>/dev/null || break
  sleep 0.5
done
if [ $up -eq 0 ]; then
  echo "--- slurmctld log"; tail -5 "$work/slurmctld.log" "$work/slurmctld.out" 2>/dev/null
  echo "--- slurmd log"; tail -5 "$work/slurmd.log" "$work/slurmd.out" 2>/dev/null
  skip "slurmctld/slurmd did not bring node trainsim1 up within 60 s on this machine"
fi
echo "slurm up: $(sinfo -h -N -o '%N %T %c CPUs')"

cd "$work" || exit 1
"$bin" sweep "$sweepfile" --slurm job --shards 3 --cpus-per-task 1 --time 00:10:00 || { echo "FAIL: sweep --slurm"; exit 1; }
jobid=$(sbatch --parsable job/sweep.sbatch) || { echo "FAIL: sbatch"; exit 1; }
echo "submitted array job $jobid"
# The local reference run, while the array runs.
"$bin" sweep "$sweepfile" --out local -j 1 -q || { echo "FAIL: local sweep"; exit 1; }
done_ok=0
for _ in $(seq 1 600); do
  if [ -z "$(squeue -h -j "$jobid" 2>/dev/null)" ]; then done_ok=1; break; fi
  sleep 1
done
[ $done_ok -eq 1 ] || { echo "FAIL: the job array did not finish within 600 s"; squeue; exit 1; }
for f in job/logs/*.out; do echo "--- $f"; tail -2 "$f"; done
"$bin" sweep merge job || { echo "FAIL: merge"; exit 1; }
if cmp local.jsonl job/results.jsonl && cmp local.csv job/results.csv; then
  echo "ok: the merged Slurm results are identical to the local run ($(wc -l <local.jsonl) points)"
else
  echo "FAIL: merged Slurm results differ from the local run"; exit 1
fi
