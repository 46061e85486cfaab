#!/usr/bin/env bash
# Prints the version Entitle's programs and packages carry:
#   installer/version.sh [RAW]     (default RAW: $VERSION, else git describe)
# A release tag (v1.2.3, 1.2.3-rc.1) is used as is, without the v; anything
# else (a commit id, 1.2.3-4-gabc1234, "dev") becomes a pre-release of 0.0.0,
# 0.0.0-dev.g<what git said, with . for other characters>, so it sorts below
# every release. Used by the Makefile (make build), installer/build.sh and
# installer/macos/build-pkg.sh, so `entitle version` and every package agree.
# (The .deb and .rpm write a pre-release with ~, as Debian and RPM sort it:
# 1.2.3~rc.1; the MSI and the .pkg take the numeric part, 1.2.3.)
set -euo pipefail
raw=${1:-${VERSION:-}}
if [ -z "$raw" ]; then
  raw=$(git -C "$(dirname "${BASH_SOURCE[0]}")" describe --tags --always --dirty 2>/dev/null || echo dev)
fi
raw=${raw#v}
if [[ "$raw" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$ ]]; then
  echo "$raw"
else
  printf '0.0.0-dev.g%s\n' "$(printf '%s' "$raw" | tr -c '0-9A-Za-z' '.')"
fi
