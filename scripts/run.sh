#!/usr/bin/env bash
# Sets up the machine if needed, builds, and starts the Reclaim server on
# http://127.0.0.1:8080 with the embedded defaults: a SQLite database and
# Maildir mailboxes under ./data (domains example.com and example.org).
#
# On first start it creates an admin API token and keeps its secret in
# data/admin-token (readable by the owner only), so later starts print it
# again. Extra arguments go to `reclaim-server serve` (for example
# --port 9090). RECLAIM_CONFIG names a configuration file to use instead of
# the defaults.
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
exec "$server" "${common[@]}" serve --web-root "$root/build/wasm/web" "$@"
