#!/usr/bin/env bash
# Builds the macOS installer package (run on a Mac with Xcode command-line tools):
#   installer/macos/build-pkg.sh            -> dist/entitle-<version>.pkg
# Environment: VERSION (default: git describe), OUT (default dist),
# SERVER_URL and PINNED_KEYS (the vendor's defaults written into agent.toml.default,
# see installer/agent-toml.sh),
# APP_SIGN_ID / PKG_SIGN_ID (optional "Developer ID Application/Installer: ..."
# identities; notarize the signed .pkg with `xcrun notarytool submit --wait`
# and `xcrun stapler staple`).
#
# Steps:
#  1. go build entitle (CGO_ENABLED=0) and entitle-tray (CGO_ENABLED=1: the
#     macOS tray needs cgo) for arm64 and amd64, joined with lipo.
#  2. Lay out the payload: /usr/local/bin/entitle, /usr/local/bin/entitle-tray,
#     /Library/LaunchDaemons/com.entitle.agent.plist,
#     /Library/LaunchAgents/com.entitle.tray.plist,
#     /Library/Application Support/Entitle/agent.toml.default (postinstall copies
#     it to agent.toml only when there is none, so upgrades keep local settings).
#  3. pkgbuild --root payload --scripts scripts (preinstall stops the agent,
#     postinstall bootstraps com.entitle.agent and the tray) -> component pkg.
#  4. productbuild --package component.pkg -> the distributable .pkg.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
[ "$(uname -s)" = Darwin ] || {
  echo "build-pkg.sh: pkgbuild and productbuild exist only on macOS" >&2
  exit 1
}
for tool in go lipo pkgbuild productbuild; do
  command -v "$tool" >/dev/null || {
    echo "build-pkg.sh: $tool is missing" >&2
    exit 1
  }
done

version=$("$root/installer/version.sh" "${VERSION:-}")
out=${OUT:-$root/dist}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ldflags="-s -w -X github.com/entitle/entitle/pkg/version.Version=$version"

# 1. Universal binaries.
for arch in arm64 amd64; do
  (cd "$root" && CGO_ENABLED=0 GOOS=darwin GOARCH=$arch go build -trimpath -ldflags "$ldflags" \
    -o "$work/entitle-$arch" ./agent/cmd/entitle)
  (cd "$root" && CGO_ENABLED=1 GOOS=darwin GOARCH=$arch go build -trimpath -ldflags "$ldflags" \
    -o "$work/entitle-tray-$arch" ./tray/cmd/entitle-tray)
done

# 2. Payload.
payload="$work/payload"
install -d "$payload/usr/local/bin" "$payload/Library/LaunchDaemons" "$payload/Library/LaunchAgents" \
  "$payload/Library/Application Support/Entitle"
lipo -create -output "$payload/usr/local/bin/entitle" "$work/entitle-arm64" "$work/entitle-amd64"
lipo -create -output "$payload/usr/local/bin/entitle-tray" "$work/entitle-tray-arm64" "$work/entitle-tray-amd64"
chmod 0755 "$payload/usr/local/bin/entitle" "$payload/usr/local/bin/entitle-tray"
install -m 0644 "$here/com.entitle.agent.plist" "$payload/Library/LaunchDaemons/"
install -m 0644 "$here/com.entitle.tray.plist" "$payload/Library/LaunchAgents/"
"$root/installer/agent-toml.sh" "$here/agent.toml" "$work/agent.toml"
install -m 0644 "$work/agent.toml" "$payload/Library/Application Support/Entitle/agent.toml.default"
if [ -n "${APP_SIGN_ID:-}" ]; then
  codesign --force --options runtime --timestamp --sign "$APP_SIGN_ID" \
    "$payload/usr/local/bin/entitle" "$payload/usr/local/bin/entitle-tray"
fi

# 3. Component package.
pkgbuild --root "$payload" --scripts "$here/scripts" --identifier com.entitle.agent.pkg \
  --version "${version%%-*}" --install-location / "$work/component.pkg"

# 4. Product archive.
mkdir -p "$out"
sign=()
[ -z "${PKG_SIGN_ID:-}" ] || sign=(--sign "$PKG_SIGN_ID")
productbuild --package "$work/component.pkg" --identifier com.entitle.pkg \
  --version "${version%%-*}" ${sign[@]+"${sign[@]}"} "$out/entitle-$version.pkg"
echo "build-pkg.sh: created $out/entitle-$version.pkg"
