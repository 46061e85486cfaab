#!/usr/bin/env bash
# `make run`: the licensing server and an agent on loopback, on embedded defaults
# (SQLite under ./run), seeded with a demo account and license and activated, so
# that `curl http://127.0.0.1:7343/v1/entitlement` answers entitled.
# Ports: ENTITLE_RUN_SERVER_PORT (8780) and ENTITLE_RUN_AGENT_PORT (7343).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=./bin
run=./run
server_port=${ENTITLE_RUN_SERVER_PORT:-8780}
agent_port=${ENTITLE_RUN_AGENT_PORT:-7343}
server_url="http://127.0.0.1:$server_port"
mkdir -p "$run/agent/profiles"
chmod 0700 "$run" "$run/agent"
db="sqlite:$run/server.db"

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

"$bin/entitle-server" migrate --db "$db" >/dev/null
demo_json=$("$bin/entitle-server" demo --db "$db" --json)
keys_json=$("$bin/entitle-server" keys show --db "$db" --json)
field() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }
email=$(field "$demo_json" 'd["email"]')
password=$(field "$demo_json" 'd["password"]')
license_key=$(field "$demo_json" 'd["license_key"]')
pinned=$(field "$keys_json" '", ".join(chr(34)+k["public_key"]+chr(34) for k in d["keys"])')

cat >"$run/agent.toml" <<TOML
# Written by make run: an agent for this checkout, next to a local licensing server.
listen = "127.0.0.1:$agent_port"
state_dir = "$PWD/run/agent"
profile_dir = "$PWD/run/agent/profiles"
server_url = "$server_url"
pinned_keys = [$pinned]
TOML

"$bin/entitle-server" serve --db "$db" --listen "127.0.0.1:$server_port" --public-url "$server_url" \
  2> >(sed 's/^/server: /' >&2) &
pids+=($!)
"$bin/entitle" service run --config "$run/agent.toml" 2> >(sed 's/^/agent:  /' >&2) &
pids+=($!)

for _ in $(seq 1 100); do
  if curl -fsS "$server_url/v1/health" >/dev/null 2>&1 && curl -fsS "http://127.0.0.1:$agent_port/v1/health" >/dev/null 2>&1; then break; fi
  sleep 0.1
done

if ! "$bin/entitle" --config "$run/agent.toml" status >/dev/null 2>&1; then
  "$bin/entitle" --config "$run/agent.toml" activate --license-key "$license_key"
fi

cat <<TEXT

Entitle is running on embedded defaults (SQLite at run/server.db).
  licensing server  $server_url   (account page: $server_url/account)
  agent local API   http://127.0.0.1:$agent_port
  demo account      $email / $password
  demo license      $license_key

Try:
  curl -s http://127.0.0.1:$agent_port/v1/entitlement
  bin/entitle --config run/agent.toml status
  bin/entitle --config run/agent.toml deactivate --yes     # frees the seat (see the account page)
  bin/entitle --config run/agent.toml activate             # browser sign-in with the demo account

Press Ctrl-C to stop.
TEXT
wait
