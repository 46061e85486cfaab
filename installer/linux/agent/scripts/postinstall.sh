#!/bin/sh
# entitle: runs after the package's files are in place.
# deb postinst: configure [old-version] (old-version empty on a first install),
#               abort-upgrade|abort-remove|abort-deconfigure ...;
# rpm %post: 1 (first install) or 2+ (upgrade).
# A first install creates the state folder and enables and starts the agent; an
# upgrade only restarts a running agent. Neither touches what the state folder
# holds (activation, API token, profiles).
# POSIX sh: rpm runs scriptlets with /bin/sh whatever the first line says,
# and dash has no pipefail (this script has no pipelines).
set -eu

case "${1:-}" in
  configure) if [ -z "${2:-}" ]; then mode=install; else mode=upgrade; fi ;;
  1) mode=install ;;
  [2-9] | [1-9][0-9]*) mode=upgrade ;;
  abort-*) mode=upgrade ;;
  *) exit 0 ;;
esac

state=/var/lib/entitle
if [ ! -d "$state" ]; then
  install -d -o entitle -g entitle -m 0750 "$state"
  install -d -o entitle -g entitle -m 0750 "$state/profiles"
fi
if [ "$mode" = install ]; then
  chown root:entitle /etc/entitle /etc/entitle/agent.toml
  chmod 0750 /etc/entitle
  chmod 0640 /etc/entitle/agent.toml
fi

if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  if [ "$mode" = install ]; then
    systemctl enable entitle.service
    systemctl --global enable entitle-tray.service
    systemctl start entitle.service ||
      echo "entitle: the agent did not start; see: journalctl -u entitle" >&2
  else
    systemctl try-restart entitle.service ||
      echo "entitle: the agent did not restart; see: journalctl -u entitle" >&2
  fi
fi

if [ "$mode" = install ]; then
  echo "entitle: the agent keeps its activation in $state."
  echo "entitle: to let a person use the tray and the command line, add them to the group: usermod -aG entitle NAME"
fi
