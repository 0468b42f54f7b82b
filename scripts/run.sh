#!/usr/bin/env bash
# Sets up the machine if needed, builds, and starts the Reclaim server on
# http://127.0.0.1:8080 with the embedded defaults: a SQLite database and
# Maildir mailboxes under ./data (domains example.com and example.org).
#
# On the first start with an empty data folder the server creates the demo
# organisation: 30 mailboxes with ordinary and malicious mail, already
# indexed, and a year of incident history. Pass --no-demo to start empty,
# or --demo-eml <folder> to deliver that folder's .eml files as the
# malicious mail. Later starts keep the data folder as it is.
#
# On first start it also creates an admin API token and keeps its secret in
# data/admin-token (readable by the owner only), so later starts print it
# again. Extra arguments go to `reclaim-server serve` (for example
# --port 9090). RECLAIM_DATA names another data folder. RECLAIM_CONFIG names
# a configuration file to use instead of the defaults (no demo then).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}

"$root/scripts/setup.sh"
"$root/scripts/build.sh"

server="$root/build/native/sync-server/reclaim-server"
data="${RECLAIM_DATA:-$root/data}"
if [[ -n ${RECLAIM_CONFIG:-} ]]; then
  common=(--config "$RECLAIM_CONFIG")
else
  common=(--data-dir "$data")
  mkdir -p "$data/mail/example.com" "$data/mail/example.org"
fi

token_file="$data/admin-token"
if [[ ! -s $token_file ]]; then
  mkdir -p "$data"
  (umask 077 && "$server" "${common[@]}" token create console-admin --role admin | tail -n 1 >"$token_file")
fi
echo "Admin token (paste it into the console's login): $(cat "$token_file")"
# Options this script always gives to serve; the server prints the address
# it listens on (http://127.0.0.1:8080 unless --port or the configuration
# sets another).
serve_options=(--web-root "$root/build/wasm/web")
exec "$server" "${common[@]}" serve "${serve_options[@]}" "$@"
