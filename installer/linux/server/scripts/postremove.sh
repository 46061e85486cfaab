#!/bin/sh
# entitle-server: removal keeps the database and settings; purge deletes
# /var/lib/entitle-server (the SQLite database) and /etc/entitle-server.
# A PostgreSQL database is never touched.
# POSIX sh: rpm runs scriptlets with /bin/sh whatever the first line says,
# and dash has no pipefail (this script has no pipelines).
set -eu

case "${1:-}" in
  remove | 0)
    if [ -d /run/systemd/system ]; then
      systemctl daemon-reload || true
    fi
    echo "entitle-server: removed; the database in /var/lib/entitle-server and /etc/entitle-server are kept (purge deletes them)."
    ;;
  purge)
    rm -rf /var/lib/entitle-server /etc/entitle-server
    rm -f /etc/systemd/system/multi-user.target.wants/entitle-server.service
    if [ -d /run/systemd/system ]; then
      systemctl daemon-reload || true
    fi
    ;;
esac
