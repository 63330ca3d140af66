#!/bin/sh
# Builds dist/lango_VERSION_ARCH.deb from the binaries in $BIN (make build):
# lango (headless), lango-kiosk, lango-hub; the systemd units of
# packaging/systemd; /etc/default files; the docs. dpkg-deb only: no
# packaging tool to install.
set -eu
BIN=${BIN:-bin}
OUT=${OUT:-dist}
VERSION=${VERSION:-0.0.0}
ARCH=${ARCH:-$(dpkg --print-architecture)}
ROOT=$(mktemp -d)
chmod 0755 "$ROOT" # the package's ./ is the system's /
trap 'rm -rf "$ROOT"' EXIT
for b in lango lango-kiosk lango-hub; do
	[ -x "$BIN/$b" ] || { echo "package: $BIN/$b missing: run make build" >&2; exit 1; }
	install -D -m 0755 "$BIN/$b" "$ROOT/usr/bin/$b"
done
for u in packaging/systemd/*.service; do
	install -D -m 0644 "$u" "$ROOT/lib/systemd/system/$(basename "$u")"
done
for d in lango lango-hub lango-relay; do
	install -D -m 0644 "packaging/default-$d" "$ROOT/etc/default/$d"
done
install -D -m 0644 README.md "$ROOT/usr/share/doc/lango/README.md"
for f in docs/*.md; do install -D -m 0644 "$f" "$ROOT/usr/share/doc/lango/$(basename "$f")"; done
install -d -m 0755 "$ROOT/DEBIAN"
# Debian versions start with a digit: a git describe such as 9ed2f44-dirty
# becomes 0.0~git9ed2f44-dirty.
case "$VERSION" in [0-9]*) ;; *) VERSION="0.0~git$VERSION" ;; esac
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" packaging/debian/control > "$ROOT/DEBIAN/control"
install -m 0644 packaging/debian/conffiles "$ROOT/DEBIAN/conffiles"
install -m 0755 packaging/debian/postinst "$ROOT/DEBIAN/postinst"
mkdir -p "$OUT"
dpkg-deb --root-owner-group --build "$ROOT" "$OUT/lango_${VERSION}_${ARCH}.deb" >/dev/null
echo "$OUT/lango_${VERSION}_${ARCH}.deb"
