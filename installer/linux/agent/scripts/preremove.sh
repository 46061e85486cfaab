#!/bin/sh
# entitle: runs before the package's files are removed.
# deb prerm: remove|upgrade|deconfigure|failed-upgrade ...; rpm %preun: 0 (remove) or 1+ (upgrade).
# Stops and disables the agent on removal only; an upgrade restarts it in postinstall.
# POSIX sh: rpm runs scriptlets with /bin/sh whatever the first line says,
# and dash has no pipefail (this script has no pipelines).
set -eu

case "${1:-}" in
  remove | 0) ;;
  *) exit 0 ;;
esac

if [ -d /run/systemd/system ]; then
  systemctl disable --now entitle.service || true
  systemctl --global disable entitle-tray.service || true
fi
