#!/bin/sh
# entitle: runs after the package's files are removed.
# deb postrm: remove|purge|upgrade|failed-upgrade|abort-install|abort-upgrade|disappear ...;
# rpm %postun: 0 (remove) or 1+ (upgrade).
# Removal keeps the activation (/var/lib/entitle) and the configuration
# (/etc/entitle); purge (deb only) deletes both. An upgrade touches nothing.
# POSIX sh: rpm runs scriptlets with /bin/sh whatever the first line says,
# and dash has no pipefail (this script has no pipelines).
set -eu

case "${1:-}" in
  remove | 0)
    if [ -d /run/systemd/system ]; then
      systemctl daemon-reload || true
    fi
    cat <<'MSG'
entitle: removed. This computer still uses its license seat: the seat stays
entitle: in use until the computer is deactivated. To free it, run
entitle:     entitle deactivate
entitle: before removing the package (reinstall, deactivate, then remove), or
entitle: release this computer from the devices list of your account page.
entitle: The activation in /var/lib/entitle and changed settings in
entitle: /etc/entitle are kept; purging the package (apt purge entitle)
entitle: deletes them, but does not free the seat either.
MSG
    ;;
  purge)
    rm -rf /var/lib/entitle /etc/entitle
    rm -f /etc/systemd/system/multi-user.target.wants/entitle.service \
      /etc/systemd/user/graphical-session.target.wants/entitle-tray.service
    if [ -d /run/systemd/system ]; then
      systemctl daemon-reload || true
    fi
    ;;
esac
