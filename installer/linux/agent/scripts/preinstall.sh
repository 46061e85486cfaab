#!/bin/sh
# entitle: runs before the package's files are unpacked.
# deb preinst: install|upgrade [old-version]; rpm %pre: 1 (install) or 2+ (upgrade).
# Creates the system group "entitle" (its members may read the agent's API token)
# and the system user the agent runs as. Existing ones are left as they are.
# POSIX sh: rpm runs scriptlets with /bin/sh whatever the first line says,
# and dash has no pipefail (this script has no pipelines).
set -eu

nologin=/usr/sbin/nologin
[ -x "$nologin" ] || nologin=/sbin/nologin

if ! getent group entitle >/dev/null; then
  groupadd --system entitle
fi
if ! getent passwd entitle >/dev/null; then
  useradd --system --gid entitle --no-create-home --home-dir /var/lib/entitle \
    --shell "$nologin" --comment "Entitle licensing agent" entitle
fi
