#!/bin/sh
# entitle-server: runs after the package's files are in place
# (deb postinst configure [old-version]; rpm-style 1|2 accepted too).
# A first install creates the state folder (SQLite database by default) and
# enables and starts the server; an upgrade restarts a running server.
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

state=/var/lib/entitle-server
if [ ! -d "$state" ]; then
  install -d -o entitle-server -g entitle-server -m 0750 "$state"
fi
if [ "$mode" = install ]; then
  chown root:entitle-server /etc/entitle-server /etc/entitle-server/server.toml
  chmod 0750 /etc/entitle-server
  chmod 0640 /etc/entitle-server/server.toml
fi

if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  if [ "$mode" = install ]; then
    systemctl enable entitle-server.service
    systemctl start entitle-server.service ||
      echo "entitle-server: the server did not start; see: journalctl -u entitle-server" >&2
  else
    systemctl try-restart entitle-server.service ||
      echo "entitle-server: the server did not restart; see: journalctl -u entitle-server" >&2
  fi
fi
