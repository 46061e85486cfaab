#!/usr/bin/env bash
# `make run`: the licensing server and an agent on loopback, on embedded defaults
# (SQLite under ./run), seeded with a demo account and license and a demo
# organization (entitle-server demo), the agent enrolled into the
# organization's first workspace with its enrollment token, so that
# `curl http://127.0.0.1:7343/v1/entitlement` answers entitled and the computer
# is on the organization admin's computers page in the console.
# Ports: ENTITLE_RUN_SERVER_PORT (8780) and ENTITLE_RUN_AGENT_PORT (7343).
# Folders: ENTITLE_RUN_BIN (./bin, the programs) and ENTITLE_RUN_DIR (./run).
# ENTITLE_RUN_TIMEOUT: seconds each program has to start (default 30).
# It stops with a message and a non-zero status when a port is taken or a
# program does not start, rather than talking to whatever answers there.
# Its messages are in French or English, chosen as the programs choose theirs
# (ENTITLE_LANG, then LC_ALL, LC_MESSAGES, LANG); the demo account's lines are
# the server's own localized output (entitle-server demo). A shell script
# cannot read pkg/i18n's catalog, so its few lines are written here in both
# languages, with the catalog's French rules (checked by scripts/demotest).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${ENTITLE_RUN_BIN:-./bin}
run=${ENTITLE_RUN_DIR:-./run}
server_port=${ENTITLE_RUN_SERVER_PORT:-8780}
agent_port=${ENTITLE_RUN_AGENT_PORT:-7343}
timeout=${ENTITLE_RUN_TIMEOUT:-30}
server_url="http://127.0.0.1:$server_port"
mkdir -p "$run/agent/profiles"
chmod 0700 "$run" "$run/agent"
run=$(cd "$run" && pwd)
db="sqlite:$run/server.db"

# The language of the messages: the first of ENTITLE_LANG, LC_ALL,
# LC_MESSAGES, LANG that is set; fr, fr_FR.UTF-8, fr-CA... give French.
lang=en
for v in "${ENTITLE_LANG:-}" "${LC_ALL:-}" "${LC_MESSAGES:-}" "${LANG:-}"; do
  if [ -n "$v" ]; then
    case $v in fr | fr[_.@-]*) lang=fr ;; esac
    break
  fi
done
# say EN FR: the text in the reader's language.
say() { if [ "$lang" = fr ]; then printf '%s' "$2"; else printf '%s' "$1"; fi; }

die() {
  echo "make run$(say ':' ' :') $*" >&2
  exit 1
}

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# busy PORT: true when something already accepts connections on 127.0.0.1:PORT.
busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "server:$server_port:ENTITLE_RUN_SERVER_PORT" "agent:$agent_port:ENTITLE_RUN_AGENT_PORT"; do
  IFS=: read -r what port var <<<"$p"
  if busy "$port"; then
    if [ "$what" = server ]; then what=$(say server serveur); fi
    die "$(say "port $port (127.0.0.1) is already in use by another program, so the demo $what cannot listen there.
  Stop that program (see: ss -ltnp 'sport = :$port'), or choose another port: $var=<port> make run" \
      "le port $port (127.0.0.1) est déjà pris par un autre programme : le $what de démonstration ne peut pas y écouter.
  Arrêtez ce programme (voir : ss -ltnp 'sport = :$port'), ou choisissez un autre port : $var=<port> make run")"
  fi
done

# started NAME PID ADDRFILE PORT: waits until the program PID has bound
# 127.0.0.1:PORT itself (it writes ADDRFILE once listening) and answers its
# health check there; fails if it exits or takes longer than $timeout s.
started() {
  local name=$1 pid=$2 addr_file=$3 port=$4 deadline=$((SECONDS + timeout))
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null || true
      die "$(say "the $name did not start: it exited (its own error is above)" "le $name n’a pas démarré : il s’est arrêté (son erreur est affichée plus haut)")"
    fi
    if [ -s "$addr_file" ]; then
      local addr
      addr=$(cat "$addr_file")
      [ "$addr" = "127.0.0.1:$port" ] || die "$(say "the $name listens on $addr, not on 127.0.0.1:$port" "le $name écoute sur $addr, pas sur 127.0.0.1:$port")"
      if curl -fsS --max-time 2 "http://$addr/v1/health" >/dev/null 2>&1; then return 0; fi
    fi
    [ $SECONDS -lt $deadline ] || die "$(say "the $name did not answer on 127.0.0.1:$port within $timeout s (ENTITLE_RUN_TIMEOUT)" "le $name n’a pas répondu sur 127.0.0.1:$port en $timeout s (ENTITLE_RUN_TIMEOUT)")"
    sleep 0.1
  done
}

"$bin/entitle-server" migrate --db "$db" >/dev/null
demo_json=$("$bin/entitle-server" demo --db "$db" --json)
keys_json=$("$bin/entitle-server" keys show --db "$db" --json)
field() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }
enrollment_token=$(field "$demo_json" 'd["organization"]["enrollment_token"]')
pinned=$(field "$keys_json" '", ".join(chr(34)+k["public_key"]+chr(34) for k in d["keys"])')

cat >"$run/agent.toml" <<TOML
# Written by make run: an agent for this checkout, next to a local licensing server.
listen = "127.0.0.1:$agent_port"
state_dir = "$run/agent"
profile_dir = "$run/agent/profiles"
server_url = "$server_url"
pinned_keys = [$pinned]
# The demo organization's workspace "Secrétariat": the agent activates into it by itself.
enrollment_token = "$enrollment_token"
TOML

rm -f "$run/server.addr" "$run/agent.addr"
"$bin/entitle-server" serve --db "$db" --listen "127.0.0.1:$server_port" --public-url "$server_url" \
  --addr-file "$run/server.addr" 2> >(sed 's/^/server: /' >&2) &
pids+=($!)
started "$(say "licensing server" "serveur de licences")" "${pids[-1]}" "$run/server.addr" "$server_port"
"$bin/entitle" service run --config "$run/agent.toml" --addr-file "$run/agent.addr" 2> >(sed 's/^/agent:  /' >&2) &
pids+=($!)
started agent "${pids[-1]}" "$run/agent.addr" "$agent_port"

# The agent enrolls by itself (a folder that once held an activation, as a
# run/ of an older make run, keeps it); wait until it is entitled.
deadline=$((SECONDS + timeout))
until curl -fsS --max-time 2 "http://127.0.0.1:$agent_port/v1/entitlement" 2>/dev/null | grep -q '"entitled": *true'; do
  [ $SECONDS -lt $deadline ] || die "$(say "the agent was not entitled within $timeout s (ENTITLE_RUN_TIMEOUT); see: bin/entitle --config run/agent.toml status" "l’agent n’a pas obtenu de licence en $timeout s (ENTITLE_RUN_TIMEOUT) ; voir : bin/entitle --config run/agent.toml status")"
  sleep 0.2
done

# The demo account, worded by the server in the reader's language.
account=$("$bin/entitle-server" demo --db "$db" | sed 's/^/  /')
if [ "$lang" = fr ]; then
  cat <<TEXT

Entitle fonctionne avec ses réglages intégrés (SQLite dans run/server.db).
  serveur de licences  $server_url   (page du compte : $server_url/account)
  API locale de l’agent http://127.0.0.1:$agent_port
$account

Essayez :
  curl -s http://127.0.0.1:$agent_port/v1/entitlement
  bin/entitle --config run/agent.toml status
  bin/entitle --config run/agent.toml deactivate --yes     # libère le poste (voir la page du compte)
  bin/entitle --config run/agent.toml activate             # connexion dans le navigateur (compte de démonstration ou membre)

Appuyez sur Ctrl-C pour arrêter.
TEXT
else
  cat <<TEXT

Entitle is running on embedded defaults (SQLite at run/server.db).
  licensing server  $server_url   (account page: $server_url/account)
  web console       $server_url/login   (organization "Cabinet Démo": sign in as its admin below)
  agent local API   http://127.0.0.1:$agent_port
$account

Try:
  curl -s http://127.0.0.1:$agent_port/v1/entitlement
  bin/entitle --config run/agent.toml status
  bin/entitle --config run/agent.toml deactivate --yes     # frees the seat (see the account page)
  bin/entitle --config run/agent.toml activate             # browser sign-in (the demo account or a member)

Press Ctrl-C to stop.
TEXT
fi
wait
