#!/usr/bin/env bash
# Builds Entitle's installers into dist/ (or $OUT):
#   deb      entitle_<version>_<arch>.deb        agent + tray, systemd units
#   rpm      entitle-<version>-1.<arch>.rpm      the same as an RPM
#   server   entitle-server_<version>_<arch>.deb the licensing server
#   msi      entitle-<version>-x64.msi           Windows agent service + tray
# Usage: installer/build.sh [deb|rpm|server|msi ...]   (no argument: all four)
# Environment: VERSION (default: git describe), ARCH (Linux GOARCH, default the
# host's), OUT (default dist). The macOS .pkg is built on a Mac:
# installer/macos/build-pkg.sh.
# Tools: nfpm v2.45.2 (go install github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2),
# wixl (Debian package wixl) for the MSI.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

die() {
  echo "installer/build.sh: $*" >&2
  exit 1
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(deb rpm server msi)
want_linux_agent=false want_server=false want_msi=false
for t in "${targets[@]}"; do
  case "$t" in
    deb | rpm) want_linux_agent=true ;;
    server) want_server=true ;;
    msi) want_msi=true ;;
    *) die "unknown target '$t' (want deb, rpm, server or msi)" ;;
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

# Package version: a release tag (v1.2.3, 1.2.3-rc.1) is used as is; anything
# else (a commit id, "dev") becomes a pre-release of 0.0.0 so it sorts below
# every release. The MSI takes the numeric part only.
raw=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
raw=${raw#v}
if [[ "$raw" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$ ]]; then
  version=$raw
else
  version="0.0.0-dev.g$(printf '%s' "$raw" | tr -c '0-9A-Za-z' '.')"
fi
msi_version=${version%%-*}

# Tools, checked before the (slow) compilation.
nfpm=""
if $want_linux_agent || $want_server; then
  nfpm=$(command -v nfpm || true)
  gopath_nfpm="$("$GO" env GOPATH)/bin/nfpm"
  [ -n "$nfpm" ] || [ ! -x "$gopath_nfpm" ] || nfpm=$gopath_nfpm
  [ -n "$nfpm" ] || die "nfpm is missing: go install github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2"
  nfpm_version=$("$GO" version -m "$nfpm" 2>/dev/null | awk '$1 == "mod" { print $3 }')
  [ "$nfpm_version" = v2.45.2 ] ||
    echo "installer/build.sh: warning: nfpm ${nfpm_version:-of unknown version}; the packages are tested with v2.45.2" >&2
fi
if $want_msi; then
  command -v wixl >/dev/null || die "wixl is missing (Debian: apt-get install wixl)"
fi

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

export ENTITLE_VERSION=$version ENTITLE_ARCH=$arch ENTITLE_BINDIR=$linux_bin
for t in "${targets[@]}"; do
  case "$t" in
    deb | rpm)
      "$nfpm" package --config installer/linux/agent/nfpm.yaml --packager "$t" --target "$out/"
      ;;
    server)
      "$nfpm" package --config installer/linux/server/nfpm.yaml --packager deb --target "$out/"
      ;;
    msi)
      # wixl resolves File/@Source relative to the current folder: stage the inputs.
      stage="$out/bin/msi-stage"
      rm -rf "$stage"
      mkdir -p "$stage"
      cp "$win_bin/entitle.exe" "$win_bin/entitle-tray.exe" installer/windows/agent.toml \
        installer/windows/entitle.wxs "$stage/"
      msi="$out/entitle-$version-x64.msi"
      (cd "$stage" && wixl --arch x64 --define "Version=$msi_version" --output "$msi" entitle.wxs)
      echo "installer/build.sh: created package: $msi"
      ;;
  esac
done

(cd "$out" && find . -maxdepth 1 -type f \( -name '*.deb' -o -name '*.rpm' -o -name '*.msi' \) \
  -printf '%P\n' | LC_ALL=C sort | xargs -r sha256sum >SHA256SUMS)
echo "installer/build.sh: version $version; packages in $out"
