#!/bin/sh
# make package-check: installs dist/lango_*.deb with apt into a fresh
# Debian (bookworm, debootstrap --variant=minbase, kept in .data/debian
# and copied afresh for each run), then checks what an IT officer would:
# the binaries run, the lango user owns /var/lib/lango 0700, the units are
# in place, the terminal initialises as the lango user in its data folder,
# and removing the package keeps the data. Needs root (debootstrap, chroot)
# and Debian's mirror.
set -eu
DEB=${DEB:-$(ls -t dist/lango_*.deb 2>/dev/null | head -1)}
BASE=${BASE:-.data/debian}
[ -n "$DEB" ] && [ -f "$DEB" ] || { echo "package-check: no dist/lango_*.deb: run make package" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "package-check: needs root (debootstrap and chroot)" >&2; exit 1; }
mkdir -p "$(dirname "$BASE")"
if [ ! -x "$BASE/usr/bin/apt-get" ]; then
	rm -rf "$BASE.tmp"
	echo "package-check: debootstrap bookworm into $BASE (once, a few minutes)"
	debootstrap --variant=minbase bookworm "$BASE.tmp" http://deb.debian.org/debian >"$BASE.log" 2>&1 ||
		{ tail -20 "$BASE.log" >&2; exit 1; }
	mv "$BASE.tmp" "$BASE"
fi
ROOT=$(mktemp -d /tmp/lango-package-check.XXXXXX)
cleanup() {
	umount "$ROOT/dev/pts" "$ROOT/proc" 2>/dev/null || true
	rm -rf --one-file-system "$ROOT"
}
trap cleanup EXIT
cp -a "$BASE/." "$ROOT/"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
mount -t proc proc "$ROOT/proc"
mkdir -p "$ROOT/dev/pts" && mount -t devpts devpts "$ROOT/dev/pts" # apt's log
cp "$DEB" "$ROOT/tmp/lango.deb"
cp testdata/catalogues/kws.json "$ROOT/tmp/kws.json"
in_root() { chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
fail() { echo "package-check: $*" >&2; exit 1; }

in_root apt-get update -qq
in_root apt-get install -y -qq --no-install-recommends /tmp/lango.deb >/dev/null 2>"$ROOT/tmp/apt.err" ||
	{ cat "$ROOT/tmp/apt.err" >&2; fail "apt install ./lango.deb"; }
echo "package-check: apt installed $(in_root dpkg-query -W -f='${Package} ${Version}' lango)"
for b in lango lango-hub lango-kiosk; do
	[ -x "$ROOT/usr/bin/$b" ] || fail "/usr/bin/$b missing"
done
in_root lango --help >/dev/null 2>&1 || fail "lango does not start on a Debian without X11 or GL"
in_root id lango >/dev/null || fail "no lango user"
for d in /var/lib/lango /var/lib/lango-hub /var/lib/lango-relay; do
	got=$(in_root stat -c '%a %U:%G' "$d") # the names of the root's own user database
	[ "$got" = "700 lango:lango" ] || fail "$d is $got, want 700 lango:lango"
done
for u in lango-sync lango-hub lango-relay lango-kiosk; do
	[ -f "$ROOT/lib/systemd/system/$u.service" ] || fail "$u.service missing"
done
in_root su -s /bin/sh lango -c 'LANGO_PIN=1234 lango --data /var/lib/lango init --site NNP --terminal gate-1 --catalogue /tmp/kws.json' >/dev/null ||
	fail "lango init as the lango user in /var/lib/lango"
[ "$(in_root stat -c '%a %U' /var/lib/lango/lango.db)" = "600 lango" ] || fail "the store is not 0600, owned by lango"
in_root apt-get remove -y -qq lango >/dev/null
[ -f "$ROOT/var/lib/lango/lango.db" ] || fail "removing the package removed the terminal's store"
echo "package-check: ok (installed, initialised as lango, removed with its data kept)"
