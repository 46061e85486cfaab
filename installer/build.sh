#!/usr/bin/env bash
# Builds Entitle's installers into dist/ (or $OUT):
#   deb      entitle_<version>_<arch>.deb        agent + tray, systemd units
#   rpm      entitle-<version>-1.<arch>.rpm      the same as an RPM
#   server   entitle-server_<version>_<arch>.deb the licensing server
#   msi      entitle-<version>-x64.msi           Windows agent service + tray
#   tar      entitle-<version>-linux-<arch>.tar.gz  agent + tray + agent.toml, for
#            `entitle service install` (docs/install.md, "Tarball installs")
# Usage: installer/build.sh [deb|rpm|server|msi|tar ...]   (no argument: all five)
# Environment: VERSION (default: git describe), ARCH (Linux GOARCH, default the
# host's), OUT (default dist), and the vendor's defaults written into every
# package's agent.toml (see installer/agent-toml.sh): SERVER_URL (the licensing
# server) and PINNED_KEYS (its lease signing keys, comma-separated). The macOS
# .pkg is built on a Mac: installer/macos/build-pkg.sh (same variables).
# Tools: nfpm comes with the repository (`go tool nfpm`, pinned in go.mod);
# wixl and msitools (Debian packages wixl, msitools) for the MSI.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

die() {
  echo "installer/build.sh: $*" >&2
  exit 1
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(deb rpm server msi tar)
want_linux_agent=false want_server=false want_msi=false
for t in "${targets[@]}"; do
  case "$t" in
    deb | rpm | tar) want_linux_agent=true ;;
    server) want_server=true ;;
    msi) want_msi=true ;;
    *) die "unknown target '$t' (want deb, rpm, server, msi or tar)" ;;
  esac
done

GO=${GO:-go}
command -v "$GO" >/dev/null || die "go is not on PATH"
arch=${ARCH:-$("$GO" env GOARCH)}
case "$arch" in
  amd64 | arm64) ;;
  *) die "ARCH=$arch: only amd64 and arm64 are packaged" ;;
esac
out=${OUT:-dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# Package version (installer/version.sh): a release tag as is, anything else
# 0.0.0-dev.g<commit>. The MSI takes the numeric part only.
version=$(installer/version.sh "${VERSION:-}")
msi_version=${version%%-*}

# Tools, checked before the (slow) compilation.
# nfpm is a go.mod tool (its version is go.mod's): `go tool` builds it once
# into the build cache.
nfpm=("$GO" tool nfpm)
if $want_linux_agent || $want_server; then
  "${nfpm[@]}" --version >/dev/null 2>&1 || die "go tool nfpm does not run (go.mod's tool directive): $("${nfpm[@]}" --version 2>&1 | tail -n 3)"
fi
if $want_msi; then
  command -v wixl >/dev/null || die "wixl is missing (Debian: apt-get install wixl)"
  for tool in msiinfo msibuild; do
    command -v "$tool" >/dev/null || die "$tool is missing (Debian: apt-get install msitools)"
  done
fi

# agent.toml of each package (checked before the slow compilation too), with the vendor's SERVER_URL and PINNED_KEYS.
conf="$out/bin/config"
if $want_linux_agent; then installer/agent-toml.sh installer/linux/agent/agent.toml "$conf/linux/agent.toml"; fi
if $want_msi; then installer/agent-toml.sh installer/windows/agent.toml "$conf/windows/agent.toml"; fi

# gobuild GOOS GOARCH DIR LDFLAGS PKG...: a release build (no cgo, version
# stamped); one go build for several packages shares the work between them.
gobuild() {
  local goos=$1 goarch=$2 dir=$3 extra=$4 pkg
  shift 4
  for pkg in "$@"; do
    [ -d "$pkg" ] || die "$pkg does not exist yet: cannot build $(basename "$pkg")"
  done
  echo "installer/build.sh: go build $* ($goos/$goarch)"
  CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch "$GO" build \
    -ldflags "-s -w -X github.com/entitle/entitle/pkg/version.Version=$version $extra" \
    -o "$dir/" "$@" || die "go build $* for $goos/$goarch failed"
}

linux_bin="$out/bin/linux-$arch"
win_bin="$out/bin/windows-amd64"
linux_pkgs=()
if $want_linux_agent; then linux_pkgs+=(./agent/cmd/entitle ./tray/cmd/entitle-tray); fi
if $want_server; then linux_pkgs+=(./server/cmd/entitle-server); fi
if [ ${#linux_pkgs[@]} -gt 0 ]; then
  mkdir -p "$linux_bin"
  gobuild linux "$arch" "$linux_bin" "" "${linux_pkgs[@]}"
fi
if $want_msi; then
  mkdir -p "$win_bin"
  gobuild windows amd64 "$win_bin" "" ./agent/cmd/entitle
  gobuild windows amd64 "$win_bin" "-H windowsgui" ./tray/cmd/entitle-tray
fi

export ENTITLE_VERSION=$version ENTITLE_ARCH=$arch ENTITLE_BINDIR=$linux_bin ENTITLE_AGENT_TOML=$conf/linux/agent.toml
for t in "${targets[@]}"; do
  case "$t" in
    tar)
      name="entitle-$version-linux-$arch"
      stage="$out/bin/tar-stage/$name"
      rm -rf "$out/bin/tar-stage"
      mkdir -p "$stage"
      install -m 0755 "$linux_bin/entitle" "$linux_bin/entitle-tray" "$stage/"
      install -m 0644 "$conf/linux/agent.toml" docs/install.md "$stage/"
      tar -C "$out/bin/tar-stage" --owner=0 --group=0 --numeric-owner --sort=name -czf "$out/$name.tar.gz" "$name"
      echo "installer/build.sh: created package: $out/$name.tar.gz"
      ;;
    deb | rpm)
      "${nfpm[@]}" package --config installer/linux/agent/nfpm.yaml --packager "$t" --target "$out/"
      ;;
    server)
      "${nfpm[@]}" package --config installer/linux/server/nfpm.yaml --packager deb --target "$out/"
      ;;
    msi)
      # wixl resolves File/@Source relative to the current folder: stage the inputs.
      stage="$out/bin/msi-stage"
      rm -rf "$stage"
      mkdir -p "$stage"
      cp "$win_bin/entitle.exe" "$win_bin/entitle-tray.exe" "$conf/windows/agent.toml" \
        installer/windows/entitle.wxs "$stage/"
      msi="$out/entitle-$version-x64.msi"
      (cd "$stage" && wixl --arch x64 --define "Version=$msi_version" --output "$msi" entitle.wxs)
      # Make the public properties secure (see entitle.wxs): add them to the
      # SecureCustomProperties wixl wrote.
      secure=$(msiinfo export "$msi" Property | awk -F '\t' '$1 == "SecureCustomProperties" { print $2 }' | tr -d '\r')
      [ -n "$secure" ] || die "$msi: wixl wrote no SecureCustomProperties"
      secure="$secure;SERVERURL;ENROLLMENTTOKEN;MANAGEMENTMODE;PINNEDKEYS"
      msibuild "$msi" -q "UPDATE \`Property\` SET \`Value\` = '$secure' WHERE \`Property\` = 'SecureCustomProperties'" ||
        die "msibuild: cannot set SecureCustomProperties in $msi"
      echo "installer/build.sh: created package: $msi"
      ;;
  esac
done

(cd "$out" && find . -maxdepth 1 -type f \( -name '*.deb' -o -name '*.rpm' -o -name '*.msi' -o -name '*.tar.gz' \) \
  -printf '%P\n' | LC_ALL=C sort | xargs -r sha256sum >SHA256SUMS)
echo "installer/build.sh: version $version; packages in $out"
