#!/usr/bin/env bash
# sipwarden analyze --html, opened in headless Chromium: the page renders
# (a non-trivial screenshot), the ladder SVG is in the DOM, and the console
# shows no error. The screenshot is kept in build/artifacts/ (not committed).
# Needs the Debian package `chromium` (scripts/deps.sh); without it the test
# says how to install it and fails.
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
D="$TESTDATA/analyze"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
ART="$ROOT/build/artifacts"
mkdir -p "$ART"

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
	not_ok "chromium is not installed: apt-get install -y chromium (add it to scripts/deps.sh)"
	finish; exit
fi

expect_exit 1 "--html report written" -- "$SIPWARDEN" analyze --html "$T/report.html" "$D/not-answered.log"
[ -s "$T/report.html" ] && ok "HTML file not empty" || not_ok "HTML file not empty"

chrome() { # the options every run needs; a fresh profile each time
	timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run \
		--user-data-dir="$(mktemp -d -p "$T")" "$@"
}

shot="$ART/analyze-report.png"
rm -f "$shot"
chrome --enable-logging=stderr --v=0 --screenshot="$shot" --window-size=1280,900 \
	"file://$T/report.html" > "$T/shot.out" 2> "$T/shot.err"
if [ -s "$shot" ] && [ "$(stat -c %s "$shot")" -gt 10000 ]; then
	ok "screenshot taken ($(stat -c %s "$shot") bytes, kept in build/artifacts/analyze-report.png)"
else
	not_ok "screenshot taken and non-trivial ($(stat -c %s "$shot" 2>/dev/null || echo 0) bytes; stderr: $(tail -3 "$T/shot.err"))"
fi
if command -v python3 >/dev/null && [ -s "$shot" ]; then
	# non-trivial: more than one colour in the picture (the PNG decoded by zlib)
	colours=$(python3 - "$shot" <<'PY'
import struct, sys, zlib
d = open(sys.argv[1], 'rb').read()
# the IDAT chunks, inflated; distinct byte triples sampled (rows are
# filtered, so this is a rough count, enough to tell a blank page)
pos, raw = 8, b''
while pos < len(d):
    n = struct.unpack('>I', d[pos:pos + 4])[0]
    if d[pos + 4:pos + 8] == b'IDAT':
        raw += d[pos + 8:pos + 8 + n]
    pos += 12 + n
px = zlib.decompress(raw)
print(len(set(px[i:i + 3] for i in range(0, min(len(px), 4_000_000), 997))))
PY
)
	if [ "${colours:-0}" -gt 3 ]; then ok "screenshot shows content ($colours colours sampled)"; else not_ok "screenshot shows content (only ${colours:-?} colours)"; fi
fi
if grep -Eq 'Uncaught|CONSOLE|console\.error|:ERROR:CONSOLE' "$T/shot.err"; then
	not_ok "no console errors ($(grep -E 'Uncaught|CONSOLE' "$T/shot.err" | head -3))"
else
	ok "no console errors"
fi

chrome --dump-dom "file://$T/report.html" > "$T/dom.html" 2> "$T/dom.err"
dom=$(cat "$T/dom.html")
expect_match "DOM has the ladder SVG" "$dom" '<svg[^>]*class="ladder"'
expect_match "DOM names the cause" "$dom" 'challenge-not-answered'
finish
