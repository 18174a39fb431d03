#!/usr/bin/env bash
# A user's script, as the README suggests: start `yandex-token emulator --json`, log in against it, then
# use `yandex-token print` the way a real script would. test/emulator-cli.test.ts runs it with
# yandex-token on PATH, HOME in a temporary folder, BROWSER set to the scripted browser and
# CALLBACK_PORT free; it prints "token works for <login>" and exits 0.
set -euo pipefail

info=$(mktemp --suffix=.json)
yandex-token emulator --json --port 0 >"$info" 2>/dev/null &
emulator=$!
trap 'kill "$emulator" 2>/dev/null || true; rm -f "$info"' EXIT

# The emulator writes one JSON line to stdout once it listens.
for _ in $(seq 100); do
  grep -q '}$' "$info" 2>/dev/null && break
  sleep 0.1
done
field() { node -p "require(process.argv[1]).$1" "$info"; }
export YANDEX_OAUTH_URL YANDEX_LOGIN_URL
YANDEX_OAUTH_URL=$(field env.YANDEX_OAUTH_URL)
YANDEX_LOGIN_URL=$(field env.YANDEX_LOGIN_URL)

yandex-token login --client-id "$(field client.id)" --client-secret "$(field client.secret)" \
  --port "$CALLBACK_PORT" --profile script

token=$(yandex-token print --profile script)
login=$(curl -fsS -H "Authorization: OAuth $token" "$YANDEX_LOGIN_URL/info?format=json" |
  node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).login')
echo "token works for $login"

kill -TERM "$emulator"
status=0
wait "$emulator" || status=$?
trap 'rm -f "$info"' EXIT
[ "$status" -eq 0 ] || { echo "the emulator exited $status on SIGTERM" >&2; exit 1; }
