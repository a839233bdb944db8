#!/usr/bin/env bash
# Install, configure and start a single-node SLURM cluster on this machine so
# that `snakemake --profile profiles/slurm-local` (executor: slurm) can submit
# jobs to it.  Debian/Ubuntu only; needs root (apt-get, /etc/slurm, daemons).
#
#   sudo profiles/slurm-local/setup-cluster.sh
#
# Idempotent: when munged, slurmctld and slurmd are already running with the
# same configuration it only checks that the node is usable and exits.
#
# Design (see README.md next to this file):
#   * no systemd needed: munged/slurmctld/slurmd are started as plain daemons;
#   * proctrack/linuxproc + task/none: no cgroups needed (containers, CI);
#   * no slurmdbd: AccountingStorageType=accounting_storage/none, so `sacct`
#     cannot answer.  The snakemake slurm executor plugin is therefore told to
#     poll with `squeue` (profile: slurm-status-command: squeue), which works
#     because MinJobAge=3600 keeps finished jobs visible to squeue/scontrol for
#     an hour.  JobCompType=jobcomp/filetxt additionally writes one durable
#     line per finished job to $JOBCOMP_LOG (the scheduler's permanent record).
#
# Environment overrides (all optional):
#   SLURM_LOCAL_NODE        node name            (default: hostname -s, or localhost)
#   SLURM_LOCAL_CLUSTER     ClusterName          (default: relurepro)
#   SLURM_LOCAL_PARTITION   partition name       (default: debug)
#   SLURM_LOCAL_TIMEOUT     seconds to wait for the node to become idle (default 60)
set -euo pipefail

CLUSTER="${SLURM_LOCAL_CLUSTER:-relurepro}"
PARTITION="${SLURM_LOCAL_PARTITION:-debug}"
TIMEOUT="${SLURM_LOCAL_TIMEOUT:-60}"
CONF_DIR=/etc/slurm
CONF="$CONF_DIR/slurm.conf"
STATE_DIR=/var/lib/slurm/slurmctld
SPOOL_DIR=/var/lib/slurm/slurmd
LOG_DIR=/var/log/slurm
JOBCOMP_LOG="$LOG_DIR/jobcomp.log"
CTLD_LOG="$LOG_DIR/slurmctld.log"
SLURMD_LOG="$LOG_DIR/slurmd.log"
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid
MUNGE_RUN=/run/munge
MUNGE_PID="$MUNGE_RUN/munged.pid"
MUNGE_KEY=/etc/munge/munge.key

T0=$(date +%s)
log() { printf '[setup-cluster %3ss] %s\n' "$(($(date +%s) - T0))" "$*"; }
die() {
    printf '[setup-cluster] ERROR: %s\n' "$*" >&2
    for f in "$CTLD_LOG" "$SLURMD_LOG"; do
        if [[ -s $f ]]; then
            printf '[setup-cluster] --- last lines of %s ---\n' "$f" >&2
            tail -n 15 "$f" >&2 || true
        fi
    done
    exit 1
}

[[ $(id -u) -eq 0 ]] || die "must run as root (it installs packages and starts daemons)"

# one setup at a time (e.g. parallel test sessions)
exec 9>/run/slurm-local-setup.lock
flock -w 120 9 || die "another setup-cluster.sh is still running (lock /run/slurm-local-setup.lock)"

# pid_alive PIDFILE NAME: the pid in PIDFILE is a running process called NAME
pid_alive() {
    local pid
    [[ -r $1 ]] || return 1
    pid=$(tr -dc '0-9' <"$1")
    [[ -n $pid ]] || return 1
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$2" ]]
}

# stop_pidfile PIDFILE NAME: stop the daemon recorded in PIDFILE (started by us)
stop_pidfile() {
    local pid
    pid_alive "$1" "$2" || return 0
    pid=$(tr -dc '0-9' <"$1")
    log "stopping $2 (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.2
    done
    kill -9 "$pid" 2>/dev/null || true
}

# --------------------------------------------------------------------------
# 1. packages
# --------------------------------------------------------------------------
need_pkgs=()
for p in slurm-wlm munge; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        need_pkgs+=("$p")
done
if ((${#need_pkgs[@]})); then
    command -v apt-get >/dev/null || die "apt-get not found: only Debian/Ubuntu are supported"
    log "installing ${need_pkgs[*]} with apt-get"
    # Keep the packages' postinst scripts from trying to start the services
    # (no init system in containers); we start the daemons ourselves below.
    created_policy=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        created_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt_ok=1
    if ! apt-get install -y -q --no-install-recommends "${need_pkgs[@]}" >/tmp/setup-cluster-apt.log 2>&1; then
        log "apt-get install failed; running apt-get update and retrying"
        if ! { apt-get update -q && apt-get install -y -q --no-install-recommends "${need_pkgs[@]}"; } \
            >>/tmp/setup-cluster-apt.log 2>&1; then
            apt_ok=0
        fi
    fi
    if ((created_policy)); then rm -f /usr/sbin/policy-rc.d; fi
    ((apt_ok)) || { tail -n 20 /tmp/setup-cluster-apt.log >&2; die "apt-get install ${need_pkgs[*]} failed (log: /tmp/setup-cluster-apt.log)"; }
    log "packages installed"
else
    log "packages slurm-wlm and munge already installed"
fi
for b in munged munge unmunge slurmctld slurmd sinfo sbatch squeue scontrol; do
    command -v "$b" >/dev/null || die "'$b' not found on PATH after installing slurm-wlm/munge"
done

# --------------------------------------------------------------------------
# 2. configuration
# --------------------------------------------------------------------------
NODE="${SLURM_LOCAL_NODE:-$(hostname -s 2>/dev/null || true)}"
[[ -n $NODE ]] || NODE=localhost

CPUS=$(nproc)
# total memory in MiB, as `free -m` reports it (procps may not be installed)
MEM_MB=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
# a container memory limit (cgroup v2 or v1) may be lower than that
for f in /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes; do
    if [[ -r $f ]]; then
        lim=$(cat "$f")
        if [[ $lim =~ ^[0-9]+$ ]] && ((lim / 1048576 < MEM_MB)); then
            MEM_MB=$((lim / 1048576))
        fi
    fi
done
# leave some head room for the OS and the daemons
reserve=$((MEM_MB / 20))
((reserve < 256)) && reserve=256
REAL_MEM=$((MEM_MB - reserve))
((REAL_MEM >= 256)) || die "too little memory for a SLURM node (total: ${MEM_MB} MB)"
DEF_MEM_PER_CPU=$((REAL_MEM / CPUS))
((DEF_MEM_PER_CPU > 1024)) && DEF_MEM_PER_CPU=1024

new_conf=$(
    cat <<EOF
# Generated by profiles/slurm-local/setup-cluster.sh -- do not edit by hand,
# re-run the script instead.  Single-node SLURM cluster on localhost.
ClusterName=${CLUSTER}
SlurmctldHost=${NODE}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
MpiDefault=none
ReturnToService=2
StateSaveLocation=${STATE_DIR}
SlurmdSpoolDir=${SPOOL_DIR}
SlurmctldPidFile=${CTLD_PID}
SlurmdPidFile=${SLURMD_PID}
SlurmctldLogFile=${CTLD_LOG}
SlurmdLogFile=${SLURMD_LOG}
SlurmctldDebug=info
SlurmdDebug=info
# no cgroups in containers
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
# several jobs at once, scheduled by cores and memory
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=${DEF_MEM_PER_CPU}
# node is trusted as configured (no drain on small hardware mismatches)
SlurmdParameters=config_overrides
# no slurmdbd: sacct cannot answer; squeue/scontrol keep finished jobs for
# MinJobAge seconds and jobcomp/filetxt keeps a permanent per-job record
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=${JOBCOMP_LOG}
MinJobAge=3600
InactiveLimit=0
KillWait=30
Waittime=0
SlurmctldTimeout=120
SlurmdTimeout=300
NodeName=${NODE} NodeAddr=127.0.0.1 NodeHostname=${NODE} CPUs=${CPUS} RealMemory=${REAL_MEM} State=UNKNOWN
PartitionName=${PARTITION} Nodes=${NODE} Default=YES MaxTime=INFINITE State=UP
EOF
)

mkdir -p "$CONF_DIR" "$STATE_DIR" "$SPOOL_DIR" "$LOG_DIR"
conf_changed=0
if [[ ! -f $CONF ]] || [[ $(cat "$CONF") != "$new_conf" ]]; then
    printf '%s\n' "$new_conf" >"$CONF"
    conf_changed=1
    log "wrote $CONF (node ${NODE}: CPUs=${CPUS} RealMemory=${REAL_MEM} MB, partition ${PARTITION})"
else
    log "$CONF is up to date (node ${NODE}: CPUs=${CPUS} RealMemory=${REAL_MEM} MB)"
fi
# cgroup.conf is only read by cgroup plugins; keep a harmless one so that a
# stray default does not get in the way
[[ -f $CONF_DIR/cgroup.conf ]] || printf 'CgroupAutomount=no\n' >"$CONF_DIR/cgroup.conf"

# --------------------------------------------------------------------------
# 3. munge
# --------------------------------------------------------------------------
if [[ ! -s $MUNGE_KEY ]]; then
    log "creating munge key $MUNGE_KEY"
    mkdir -p /etc/munge
    if command -v mungekey >/dev/null; then
        mungekey --create --keyfile="$MUNGE_KEY" --force
    else
        dd if=/dev/urandom of="$MUNGE_KEY" bs=1 count=1024 status=none
    fi
fi
chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge 2>/dev/null || true
chmod 700 /etc/munge
chmod 400 "$MUNGE_KEY"
mkdir -p "$MUNGE_RUN"
chown munge:munge "$MUNGE_RUN"
chmod 755 "$MUNGE_RUN"

if pid_alive "$MUNGE_PID" munged && munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    log "munged already running (pid $(tr -dc '0-9' <"$MUNGE_PID"))"
else
    stop_pidfile "$MUNGE_PID" munged
    rm -f "$MUNGE_RUN/munge.socket.2" "$MUNGE_RUN/munge.socket.2.lock" "$MUNGE_PID"
    log "starting munged"
    runuser -u munge -- munged --pid-file="$MUNGE_PID" 9>&- ||
        die "munged failed to start (see /var/log/munge/munged.log)"
    ok=0
    for _ in $(seq 1 50); do
        if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then ok=1; break; fi
        sleep 0.2
    done
    ((ok)) || die "munge credential round trip (munge -n | unmunge) failed"
    log "munged is up"
fi

# --------------------------------------------------------------------------
# 4. slurmctld + slurmd
# --------------------------------------------------------------------------
started=0
if ((conf_changed)); then
    # the node/partition definition may have changed: full restart
    stop_pidfile "$SLURMD_PID" slurmd
    stop_pidfile "$CTLD_PID" slurmctld
fi

# start_daemon NAME PIDFILE ARGS...: start NAME unless its pidfile names a
# live process (a daemon that is just shutting down is waited for first)
start_daemon() {
    local name=$1 pidfile=$2
    shift 2
    if pid_alive "$pidfile" "$name"; then
        return 0
    fi
    rm -f "$pidfile"
    started=1
    log "starting $name $*"
    # 9>&-: the daemons must not inherit (and keep holding) the setup lock
    "$name" "$@" 9>&- || die "$name failed to start (logs: $LOG_DIR)"
}

if pid_alive "$CTLD_PID" slurmctld; then
    log "slurmctld already running (pid $(tr -dc '0-9' <"$CTLD_PID"))"
else
    start_daemon slurmctld "$CTLD_PID"
fi
deadline=$(($(date +%s) + TIMEOUT))
until scontrol ping 2>/dev/null | grep -q "is UP"; do
    # e.g. a slurmctld that was being killed when we looked: start a new one
    pid_alive "$CTLD_PID" slurmctld || start_daemon slurmctld "$CTLD_PID"
    (($(date +%s) < deadline)) || die "slurmctld does not answer 'scontrol ping' after ${TIMEOUT}s (log: $CTLD_LOG)"
    sleep 0.2
done

if pid_alive "$SLURMD_PID" slurmd; then
    log "slurmd already running (pid $(tr -dc '0-9' <"$SLURMD_PID"))"
else
    start_daemon slurmd "$SLURMD_PID" -N "$NODE"
fi

# --------------------------------------------------------------------------
# 5. wait for the node to become usable
# --------------------------------------------------------------------------
node_state() { sinfo -h -N -n "$NODE" -o '%T' 2>/dev/null | head -n1 || true; }
deadline=$(($(date +%s) + TIMEOUT))
resumed=0
state=""
while :; do
    pid_alive "$SLURMD_PID" slurmd || start_daemon slurmd "$SLURMD_PID" -N "$NODE"
    state=$(node_state)
    case "$state" in
    idle | mixed | allocated | completing) break ;;
    down* | drain* | fail*)
        # resume only once slurmd has registered: a resume before that would
        # just bounce back to down
        if ((resumed < 3)) && scontrol show node "$NODE" 2>/dev/null | grep -q "SlurmdStartTime=[0-9]"; then
            log "node $NODE is '$state', resuming it"
            scontrol update NodeName="$NODE" State=RESUME 2>/dev/null || true
            resumed=$((resumed + 1))
        fi
        ;;
    esac
    if (($(date +%s) >= deadline)); then
        scontrol show node "$NODE" >&2 2>/dev/null || true
        die "node $NODE is '${state:-unknown}' and not idle after ${TIMEOUT}s"
    fi
    sleep 0.5
done
log "node $NODE is $state; partition ${PARTITION} is ready"

# after a (re)start, prove that a job really runs (about 1 s)
if ((started)); then
    log "smoke test: srun -p ${PARTITION} true"
    timeout "$TIMEOUT" srun -p "$PARTITION" -J setup-cluster-smoke -t 1 --mem 16 -n 1 true 9>&- ||
        die "a test job (srun -p ${PARTITION} true) did not run"
    log "smoke test passed"
fi
sinfo
log "cluster ready in $(($(date +%s) - T0))s (job record: $JOBCOMP_LOG, controller log: $CTLD_LOG)"
