#!/bin/sh
# entitle-server: stops and disables the server on removal (not on upgrade).
# POSIX sh: rpm runs scriptlets with /bin/sh whatever the first line says,
# and dash has no pipefail (this script has no pipelines).
set -eu

case "${1:-}" in
  remove | 0) ;;
  *) exit 0 ;;
esac
if [ -d /run/systemd/system ]; then
  systemctl disable --now entitle-server.service || true
fi
