#!/usr/bin/env bash
# The Debian package: `dpkg-buildpackage -us -uc -b` (release build only,
# DEB_BUILD_OPTIONS=nocheck) in a copy of the tree under $TMPDIR, so the
# source tree stays clean; then `dpkg-deb -c` and `-I` on the .deb: the same
# files as `make install PREFIX=/usr` (config in /etc/sipwarden, a conffile;
# the unit in /lib/systemd/system, its paths /usr/bin and /etc), a postinst
# that creates the system user sipwarden and neither enables nor starts the
# unit, a hardened binary that runs, lintian's verdict when it is installed;
# and dpkg -i / -r / -P for real on an overlay of / in a mount namespace.
# About 35 s, most of it the build.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
T=$(mktemp -d "${TMPDIR:-/tmp}/sw_deb.XXXXXX")
trap 'rm -rf "$T"' EXIT

for tool in dpkg-buildpackage dh dpkg-deb; do
	if ! command -v "$tool" >/dev/null; then
		echo "# SKIP $tool is missing (scripts/deps.sh installs dpkg-dev and debhelper)"
		exit 0
	fi
done

# the tracked and new (not ignored) files: no build/, no binary
S="$T/sipwarden"
mkdir -p "$S"
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$ROOT" && git ls-files -co --exclude-standard -z | xargs -0 tar -cf - 2>/dev/null) | tar -xf - -C "$S"
else
	tar -C "$ROOT" --exclude=./build --exclude=./sipwarden --exclude=./var -cf - . | tar -xf - -C "$S"
fi
[ -f "$S/debian/rules" ] || { not_ok "the copy of the tree has debian/rules"; finish; exit; }

start=$(date +%s)
if (cd "$S" && DEB_BUILD_OPTIONS="nocheck parallel=2" nice -n 10 dpkg-buildpackage -us -uc -b) \
	>"$T/build.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b ($(($(date +%s) - start)) s)"
else
	not_ok "dpkg-buildpackage -us -uc -b: $(tail -c 1500 "$T/build.log")"
	finish; exit
fi
deb=$(ls "$T"/sipwarden_*_*.deb 2>/dev/null | grep -v dbgsym | head -n 1)
[ -n "$deb" ] && ok "a .deb: $(basename "$deb")" || { not_ok "no .deb in $T: $(ls "$T")"; finish; exit; }

# files: what make install puts with PREFIX=/usr (man pages gzipped by
# dh_compress), with /etc and /lib/systemd/system; plus Debian's doc files
files=$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print $6 }' | sed 's|^\./||' | sort)
expected=$( { echo usr/bin/sipwarden; echo etc/sipwarden/sipwarden.conf
	echo lib/systemd/system/sipwarden.service
	for m in "$ROOT"/man/*.1; do echo "usr/share/man/man1/$(basename "$m").gz"; done
	for m in "$ROOT"/man/*.5; do echo "usr/share/man/man5/$(basename "$m").gz"; done
	echo usr/share/doc/sipwarden/changelog.gz; echo usr/share/doc/sipwarden/copyright; } | sort)
if [ "$files" = "$expected" ]; then
	ok "dpkg-deb -c: the binary, $(ls "$ROOT"/man | wc -l) man pages, /etc/sipwarden/sipwarden.conf, the unit, the doc files"
else
	not_ok "dpkg-deb -c: $(diff <(echo "$expected") <(echo "$files") | grep '^[<>]' | tr '\n' ' ')"
fi
expect_match "the binary is installed 0755" "$(dpkg-deb -c "$deb" | grep ' ./usr/bin/sipwarden$')" '^-rwxr-xr-x '

info=$(dpkg-deb -I "$deb")
expect_match "dpkg-deb -I: Package sipwarden, Architecture $(dpkg --print-architecture)" "$info" \
	"Architecture: $(dpkg --print-architecture)"
expect_match "... Depends on adduser and the shared libraries (libsystemd0, libsqlite3, libssl)" \
	"$(grep '^ *Depends:' <<<"$info")" 'adduser.*|libsystemd0|libsqlite3-0|libssl3'
expect_match "... the Depends list the libraries the binary links" \
	"$(grep '^ *Depends:' <<<"$info" | grep -o 'libsystemd0\|libsqlite3-0\|libssl3\|libinih1\|libpcap0.8' | sort -u | tr '\n' ' ')" \
	'libinih1 libpcap0.8 libsqlite3-0 libssl3 libsystemd0'
expect_match "... /etc/sipwarden/sipwarden.conf is a conffile" "$(dpkg-deb -I "$deb" conffiles)" \
	'^/etc/sipwarden/sipwarden\.conf$'

# the postinst of a first installation, run with stand-ins for the commands
# it may call (logging them; deb-systemd-helper answers "not installed, not
# enabled" as on a new system): it must create the user, and neither enable
# nor start anything
post=$(dpkg-deb -I "$deb" postinst)
stub="$T/stubs"; mkdir -p "$stub"
for c in adduser deb-systemd-helper deb-systemd-invoke systemctl systemd-sysusers useradd; do
	printf '#!/bin/sh\necho "%s $*" >>"%s"\ncase "$*" in *debian-installed*|*was-enabled*) exit 1;; esac\nexit 0\n' \
		"$c" "$T/calls" >"$stub/$c"
	chmod +x "$stub/$c"
done
: >"$T/calls"
if PATH="$stub:$PATH" sh -c "$post" postinst configure "" >"$T/postinst.out" 2>&1; then
	ok "postinst configure (first installation) exits 0"
else
	not_ok "postinst configure (first installation): $(cat "$T/postinst.out")"
fi
expect_match "postinst creates the system user sipwarden, home /var/lib/sipwarden" "$(cat "$T/calls")" \
	'^adduser --system --group .*--home /var/lib/sipwarden .*sipwarden$'
if grep -Eq '(deb-systemd-helper|systemctl) .*(enable|unmask)|deb-systemd-invoke|systemctl .*(start|restart)' "$T/calls"; then
	not_ok "postinst neither enables nor starts the unit: $(tr '\n' ';' <"$T/calls")"
else
	ok "postinst neither enables nor starts the unit (calls: $(cut -d' ' -f1,2 "$T/calls" | tr '\n' ';'))"
fi

# lintian, when installed (not by scripts/deps.sh: it is large): no error, no warning
if command -v lintian >/dev/null; then
	lint=$(TMPDIR="$T" timeout 120 lintian --tag-display-limit 0 "$T"/sipwarden_*.changes 2>&1 | grep -E '^[EW]: ')
	[ -z "$lint" ] && ok "lintian: no error or warning" || not_ok "lintian: $(head -n 5 <<<"$lint" | tr '\n' ';')"
else
	echo "# SKIP lintian is not installed"
fi

X="$T/extract"
dpkg-deb -x "$deb" "$X"
expect_match "the unit runs /usr/bin/sipwarden with /etc/sipwarden/sipwarden.conf" \
	"$(grep '^ExecStart=' "$X/lib/systemd/system/sipwarden.service")" \
	'^ExecStart=/usr/bin/sipwarden serve --config /etc/sipwarden/sipwarden\.conf --db /var/lib/sipwarden/sipwarden\.db$'
cmp -s "$ROOT/etc/sipwarden.conf" "$X/etc/sipwarden/sipwarden.conf" && ok "the config is the example" ||
	not_ok "the config is the example"
expect_exit 0 "the packaged binary runs (serve --help)" -- "$X/usr/bin/sipwarden" serve --help
# dpkg-buildflags' hardening reached the link (the Makefile passes LDFLAGS)
if command -v readelf >/dev/null; then
	expect_match "the packaged binary is PIE with full RELRO (BIND_NOW)" \
		"$(readelf -h "$X/usr/bin/sipwarden" | grep 'Type:') $(readelf -d "$X/usr/bin/sipwarden" | grep -c 'BIND_NOW')" \
		'DYN .*[1-9]$'
	syms=$(readelf -s --wide "$X/usr/bin/sipwarden" | grep -Eo '__[a-z]+_chk(_fail)?' | sort -u)
	if grep -qx '__stack_chk_fail' <<<"$syms" && grep -Evx '__stack_chk_fail' <<<"$syms" | grep -q _chk; then
		ok "... built with the stack protector and FORTIFY_SOURCE ($(echo $syms | cut -c1-80)...)"
	else
		not_ok "... built with the stack protector and FORTIFY_SOURCE (symbols: $(echo $syms))"
	fi
fi
# dpkg -i, -r and -P for real, in a mount namespace where / is an overlay
# whose changes land in $T (nothing on this machine is touched): the user
# is created, the files are where they belong, the unit is neither enabled
# nor started, remove keeps the configuration and purge removes it
O="$T/overlay"
mkdir -p "$O/upper" "$O/work" "$O/root"
if [ "$(id -u)" -eq 0 ] && unshare -m true 2>/dev/null; then
	cat >"$O/inside.sh" <<'EOF2'
set -u
R=$1 DEB=$2
mount -t overlay overlay -o "lowerdir=/,upperdir=$3,workdir=$4" "$R" || exit 90
mount --rbind /dev "$R/dev" && mount -t proc proc "$R/proc" && mount -t tmpfs tmpfs "$R/run" || exit 91
inr() { chroot "$R" "$@"; }
echo "== install"; inr dpkg --no-triggers -i "$DEB" >/dev/null 2>&1; echo "rc $?"
echo "== passwd $(inr getent passwd sipwarden | cut -d: -f1,6,7)"
echo "== group $(inr getent group sipwarden | cut -d: -f1)"
echo "== system uid $(inr sh -c 'id -u sipwarden')"
for f in /usr/bin/sipwarden /etc/sipwarden/sipwarden.conf /lib/systemd/system/sipwarden.service \
	/usr/share/man/man1/sipwarden-serve.1.gz; do [ -f "$R$f" ] && echo "== file $f"; done
echo "== enabled $(inr systemctl is-enabled sipwarden.service 2>&1)"
echo "== wants $(ls "$R"/etc/systemd/system/*.wants/ 2>/dev/null | grep -c sipwarden)"
echo "== runs $(inr sipwarden serve --config /etc/sipwarden/sipwarden.conf --domain example.com --check-config >/dev/null 2>&1; echo $?)"
echo "== remove"; inr dpkg -r sipwarden >/dev/null 2>&1; echo "rc $?"
[ -e "$R/usr/bin/sipwarden" ] || echo "== binary gone"
[ -f "$R/etc/sipwarden/sipwarden.conf" ] && echo "== conf kept"
echo "== purge"; inr dpkg -P sipwarden >/dev/null 2>&1; echo "rc $?"
[ -e "$R/etc/sipwarden/sipwarden.conf" ] || echo "== conf gone"
EOF2
	timeout 120 unshare -m -- sh "$O/inside.sh" "$O/root" "$deb" "$O/upper" "$O/work" >"$O/out" 2>&1
	rc=$?
	if [ "$rc" -eq 90 ] || [ "$rc" -eq 91 ]; then
		echo "# SKIP no overlay over / here: $(head -c 200 "$O/out")"
	else
		res=$(cat "$O/out")
		expect_match "dpkg -i in an overlay of /: installed" "$res" $'== install\nrc 0'
		expect_match "... the system user sipwarden (home /var/lib/sipwarden, no login shell)" "$res" \
			'== passwd sipwarden:/var/lib/sipwarden:/usr/sbin/nologin'
		expect_match "... with its group" "$res" '== group sipwarden'
		uid=$(sed -n 's/^== system uid //p' <<<"$res")
		[ -n "$uid" ] && [ "$uid" -lt 1000 ] && ok "... a system uid ($uid)" || not_ok "... a system uid ($uid)"
		expect_match "... the binary, the config, the unit, the man pages in place" \
			"$(grep -c '^== file' <<<"$res")" '^4$'
		expect_match "... the unit is not enabled" "$res" '== enabled disabled'
		expect_match "... no .wants link" "$res" '== wants 0'
		expect_match "... the installed binary reads the installed config" "$res" '== runs 0'
		expect_match "dpkg -r removes the binary and keeps the configuration" "$res" \
			$'== remove\nrc 0\n== binary gone\n== conf kept'
		expect_match "dpkg -P removes the configuration" "$res" $'== purge\nrc 0\n== conf gone'
	fi
else
	echo "# SKIP installing for real needs root and a mount namespace"
fi

expect_match "the source tree stays clean (no debian/sipwarden, no .deb next to it)" \
	"$(ls -d "$ROOT/debian/sipwarden" "$ROOT"/../sipwarden_*.deb 2>/dev/null | wc -l)" '^0$'
finish
