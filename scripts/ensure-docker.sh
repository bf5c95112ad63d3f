#!/usr/bin/env bash
# Make sure a Docker engine answers (DOCKER_HOST or the default socket) and the lab's host tools exist.
# Where no engine answers and we are root on Debian/Ubuntu: install docker.io and start dockerd in the
# background, its log in ${DOCKERD_LOG:-/var/log/swarmops-dockerd.log}. Otherwise say what to install.
set -euo pipefail

LOG=${DOCKERD_LOG:-/var/log/swarmops-dockerd.log}
engine_answers() { command -v docker >/dev/null && timeout 10 docker info >/dev/null 2>&1; }

apt_install() {
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || return 1
  echo "ensure-docker: installing $*" >&2
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null
}

missing=()
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v ssh >/dev/null || missing+=(openssh-client)
command -v promtool >/dev/null || missing+=(prometheus)  # promtool, for the monitoring role's rule tests
# The browser tests drive the distribution's Chromium with Playwright (whose own browser download is not used).
command -v chromium >/dev/null || command -v chromium-browser >/dev/null || missing+=(chromium)
if ! engine_answers; then
  command -v dockerd >/dev/null || missing+=(docker.io iptables)
fi
if [ ${#missing[@]} -gt 0 ] && ! apt_install "${missing[@]}"; then
  echo "ensure-docker: missing ${missing[*]}; install them (as root: apt-get install ${missing[*]})" >&2
  engine_answers || exit 1
fi

if engine_answers; then
  exit 0
fi
if [ -n "${DOCKER_HOST:-}" ]; then
  echo "ensure-docker: no engine answers at DOCKER_HOST=$DOCKER_HOST" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "ensure-docker: no Docker engine answers; start one (sudo systemctl start docker) or set DOCKER_HOST" >&2
  exit 1
fi
echo "ensure-docker: starting dockerd, log in $LOG" >&2
nohup dockerd >>"$LOG" 2>&1 </dev/null &
for _ in $(seq 1 60); do
  engine_answers && exit 0
  sleep 1
done
echo "ensure-docker: dockerd did not answer within 60s; last lines of $LOG:" >&2
tail -n 20 "$LOG" >&2
exit 1
