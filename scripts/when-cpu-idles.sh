#!/usr/bin/env bash
# Wait until the machine's cores have been at least IDLE_PERCENT idle over the last WINDOW seconds, or until the
# file DONE exists: CI's Molecule scenarios and lint take the CPU that the labs' waits leave, instead of slowing
# the labs' setups, which keep every core busy.
#   scripts/when-cpu-idles.sh IDLE_PERCENT WINDOW DONE
set -euo pipefail
idle_percent=${1:?usage: scripts/when-cpu-idles.sh IDLE_PERCENT WINDOW DONE}
window=${2:?}
done_file=${3:?}
step=5
samples=()  # "total idle" jiffies, one every $step seconds, the oldest first
began=$SECONDS
while :; do
  read -r _ user nice system idle iowait irq softirq steal _ </proc/stat
  samples+=("$((user + nice + system + idle + iowait + irq + softirq + steal)) $((idle + iowait))")
  if [[ -e $done_file ]]; then
    echo "when-cpu-idles: $done_file exists, $((SECONDS - began)) s after waiting began"
    exit 0
  fi
  if (( ${#samples[@]} > window / step )); then
    samples=("${samples[@]:1}")
    read -r total0 idle0 <<<"${samples[0]}"
    read -r total1 idle1 <<<"${samples[-1]}"
    if (( (idle1 - idle0) * 100 >= idle_percent * (total1 - total0) )); then
      echo "when-cpu-idles: the cores were $(( (idle1 - idle0) * 100 / (total1 - total0) ))% idle over ${window} s," \
           "$((SECONDS - began)) s after waiting began"
      exit 0
    fi
  fi
  sleep "$step"
done
