#!/bin/sh
# The demo of `make run`: the stand-in national platform, a local hub
# forwarding to it, and a terminal at Nairobi National Park's main gate
# enrolled with the hub, printing to the printer emulator.
# Stop the hub (kill "$(cat .data/demo/hub.pid)") to watch the kiosk go
# offline and keep selling; start it again to watch it catch up:
#   bin/lango-hub serve --data .data/demo/hub --listen 127.0.0.1:8420 &
# When the kiosk closes, every hub serving .data/demo/hub is stopped, the one
# started by hand too.
set -eu
DATA=${1:-.data/demo}
BIN=${BIN:-bin}
HUB=http://127.0.0.1:8420
PLATFORM=http://127.0.0.1:8421
case "${LANG:-C}" in C|C.*|POSIX) export LANG=en_US.UTF-8 ;; esac # Fyne reads the locale
mkdir -p "$DATA"
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
	echo "lango: no display: make run opens a window (use make test for a headless run)" >&2
	exit 1
fi
# The stand-in platform keeps its bills in memory: see its counts at
# $PLATFORM/standin/counts, and the hub's side in lango-hub report.
LANGO_PLATFORM_AGENCY=KWS LANGO_PLATFORM_SECRET=demo-secret \
	"$BIN/lango-platform" --listen 127.0.0.1:8421 >"$DATA/platform.log" 2>&1 &
echo $! >"$DATA/platform.pid"
LANGO_HUB_PLATFORM_URL=$PLATFORM LANGO_HUB_PLATFORM_AGENCY=KWS LANGO_HUB_PLATFORM_SECRET=demo-secret \
	"$BIN/lango-hub" serve --data "$DATA/hub" --listen 127.0.0.1:8420 >"$DATA/hub.log" 2>&1 &
echo $! >"$DATA/hub.pid"
trap 'kill "$(cat "$DATA/hub.pid")" "$(cat "$DATA/platform.pid")" 2>/dev/null; pkill -f -- "lango-hub serve --data (\./)?($DATA|${DATA#"$PWD"/})/hub( |\$)" 2>/dev/null || true' EXIT INT TERM
for i in 1 2 3 4 5 6 7 8 9 10; do
	curl -fs "$HUB/healthz" >/dev/null 2>&1 && break || sleep 0.3
done
T="$DATA/terminal"
if [ ! -f "$T/lango.db" ]; then
	LANGO_PIN=1234 "$BIN/lango" --data "$T" init --site NNP --terminal main-gate-1 \
		--catalogue testdata/catalogues/kws.json --printer "emulator:$DATA/paper?profile=epson-tm-t20"
	LANGO_PIN=1234 LANGO_NEW_PIN=0000 "$BIN/lango" --data "$T" operator add --as admin --name wanjiru --role attendant
	TOKEN=$("$BIN/lango-hub" terminal add --data "$DATA/hub" --site NNP --name main-gate-1)
	"$BIN/lango" --data "$T" enroll --hub "$HUB" --token "$TOKEN" || echo "lango: demo runs without the hub" >&2
	echo "demo terminal in $T: supervisor admin (PIN 1234), attendant wanjiru (PIN 0000); printed passes in $DATA/paper"
fi
"$BIN/lango" --data "$T" run --windowed
