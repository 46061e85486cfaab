#!/usr/bin/env bash
# Writes an OS's agent.toml template with the vendor's build-time defaults:
#   installer/agent-toml.sh TEMPLATE OUT
# Environment (both optional; empty leaves the template's commented default):
#   SERVER_URL    the licensing server, http:// or https:// (e.g. https://licensing.example.com)
#   PINNED_KEYS   the lease signing keys to pin, comma- or space-separated
#                 (base64url Ed25519 public keys, as `entitle-server keys show` prints them; at most 16)
# The template's `#server_url = ...` and `#pinned_keys = ...` lines become
# settings; nothing else changes. Used by installer/build.sh (deb, rpm, msi)
# and installer/macos/build-pkg.sh.
set -euo pipefail

die() {
  echo "installer/agent-toml.sh: $*" >&2
  exit 1
}
[ $# -eq 2 ] || die "usage: agent-toml.sh TEMPLATE OUT"
tmpl=$1 out=$2
[ -f "$tmpl" ] || die "$tmpl does not exist"

url=${SERVER_URL:-}
if [ -n "$url" ]; then
  # Only what a URL needs, so the value cannot break out of its TOML string.
  url_re='^https?://[^[:space:]"\\[:cntrl:]]+$'
  [[ "$url" =~ $url_re ]] ||
    die "SERVER_URL=$url: want an http:// or https:// URL"
fi
keys=()
pinned=${PINNED_KEYS:-}
for k in ${pinned//,/ }; do
  [[ "$k" =~ ^[A-Za-z0-9_-]{43}$ ]] ||
    die "PINNED_KEYS: $k is not a base64url Ed25519 public key (43 characters of A-Z a-z 0-9 - _)"
  keys+=("\"$k\"")
done
[ ${#keys[@]} -le 16 ] || die "PINNED_KEYS: ${#keys[@]} keys, at most 16"

# setting NAME LINE: replaces the one commented line of NAME with LINE.
text=$(cat "$tmpl")
setting() {
  local name=$1 line=$2 n
  n=$(grep -c "^#$name = " <<<"$text" || true)
  [ "$n" = 1 ] || die "$tmpl: want one commented '#$name = ' line, found $n"
  text=$(NAME=$name LINE=$line awk '$0 ~ "^#" ENVIRON["NAME"] " = " { print "# Set when this package was built:"; print ENVIRON["LINE"]; next } { print }' <<<"$text")
}
[ -z "$url" ] || setting server_url "server_url = \"$url\""
if [ ${#keys[@]} -gt 0 ]; then
  joined=$(IFS=,; echo "${keys[*]}")
  setting pinned_keys "pinned_keys = [${joined//,/, }]"
fi
mkdir -p "$(dirname "$out")"
printf '%s\n' "$text" >"$out"
