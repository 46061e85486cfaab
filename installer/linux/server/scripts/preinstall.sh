#!/bin/sh
# entitle-server: runs before the package's files are unpacked
# (deb preinst install|upgrade; rpm-style 1|2 accepted too).
# Creates the system user and group the server runs as.
# POSIX sh: rpm runs scriptlets with /bin/sh whatever the first line says,
# and dash has no pipefail (this script has no pipelines).
set -eu

nologin=/usr/sbin/nologin
[ -x "$nologin" ] || nologin=/sbin/nologin

if ! getent group entitle-server >/dev/null; then
  groupadd --system entitle-server
fi
if ! getent passwd entitle-server >/dev/null; then
  useradd --system --gid entitle-server --no-create-home --home-dir /var/lib/entitle-server \
    --shell "$nologin" --comment "Entitle licensing server" entitle-server
fi
