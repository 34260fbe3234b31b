#!/usr/bin/env bash
# A throw-away single-node Slurm cluster on this machine (munged, slurmctld, slurmd from Debian's slurm-wlm and
# munge), all of its state in one directory: for trying aicl_sweep --slurm and for its slow test.
#   scripts/slurm-local.sh start DIR   starts it (as root) and prints the line to export (SLURM_CONF=DIR/slurm.conf)
#   scripts/slurm-local.sh stop DIR    stops its daemons
# Exit code 77 with a one-line reason when it cannot start here (not root, Slurm or munge missing, daemons fail).
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
cmd=$1 dir=$2
skip() { echo "slurm-local: $*" >&2; exit 77; }

stop() {
  for p in slurmd slurmctld munged; do
    [ -f "$dir/$p.pid" ] && kill "$(cat "$dir/$p.pid")" 2> /dev/null || true
  done
  sleep 1
  for p in slurmd slurmctld munged; do
    [ -f "$dir/$p.pid" ] && kill -9 "$(cat "$dir/$p.pid")" 2> /dev/null || true
    rm -f "$dir/$p.pid"
  done
}

# A port nothing listens on (bash's /dev/tcp connects when something does), drawn from 20000-59999.
free_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 40000))
    (: < "/dev/tcp/127.0.0.1/$p") 2> /dev/null || { echo "$p"; return 0; }
  done
  skip "no free TCP port found"
}

start() {
  [ "$(id -u)" -eq 0 ] || skip "needs root (slurmd runs jobs as their users)"
  for b in munged slurmctld slurmd sbatch squeue scontrol; do
    command -v "$b" > /dev/null || [ -x "/usr/sbin/$b" ] || skip "$b not found (apt-get install slurm-wlm munge)"
  done
  mkdir -p "$dir"/{state,spool,munge}
  dir=$(cd "$dir" && pwd)
  chmod 700 "$dir/munge"
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$dir/munge/munge.key"
  /usr/sbin/munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/munge.seed" \
    || skip "munged did not start (see $dir/munged.log)"
  local host cpus mem
  host=$(hostname -s) cpus=$(nproc) mem=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2))
  cat > "$dir/slurm.conf" <<CONF
ClusterName=aicl-local
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
AuthType=auth/munge
# cred_expire: how long a requeued job waits before it may start again (120 s by default; 10 s for a test)
AuthInfo=socket=$dir/munge/munge.socket,cred_expire=10
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
SchedulerParameters=defer_batch
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF=$dir/slurm.conf
  /usr/sbin/slurmctld -f "$SLURM_CONF" || skip "slurmctld did not start (see $dir/slurmctld.log)"
  /usr/sbin/slurmd -f "$SLURM_CONF" || skip "slurmd did not start (see $dir/slurmd.log)"
  for _ in $(seq 60); do
    if sinfo -h -o '%t' 2> /dev/null | grep -qE '^(idle|mix|alloc)'; then
      echo "export SLURM_CONF=$SLURM_CONF"
      return 0
    fi
    sleep 0.5
  done
  skip "the node did not come up within 30 s (see $dir/slurmd.log, $dir/slurmctld.log)"
}

case $cmd in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
