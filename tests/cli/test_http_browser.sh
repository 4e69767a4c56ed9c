#!/usr/bin/env bash
# The operator's web page (sipwarden serve --http) in headless Chromium: a
# wrong-password REGISTER, whose User-Agent is an XSS attempt, appears on the
# overview and on the user's page as rendered by the page's script (in the
# DOM after the scripts ran: body[data-ready]), with the explanation, the
# fix and the user's current binding; the User-Agent is text, never markup;
# no console error. Screenshots go to $TMPDIR (not committed); their paths
# are printed. Needs the Debian package `chromium` (scripts/deps.sh). Ports:
# SW_HTTP_TEST_PORTS (default 62000-62999).
. "$(dirname "$0")/serve_lib.sh"
read -r PLO PHI <<<"${SW_HTTP_TEST_PORTS:-62000 62999}"

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
	not_ok "chromium is not installed: apt-get install -y chromium (scripts/deps.sh)"
	finish; exit
fi
chrome() { # a fresh profile each time; the page's fetches finish within the virtual time
	timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --enable-logging=stderr --v=0 \
		--user-data-dir="$(mktemp -d -p "$T")" --virtual-time-budget=8000 "$@"
}

SW_DB="$T/web.db"
sw_user add alice@127.0.0.1 --password 'alice-Secret-1' >/dev/null
SW_PORT=$(free_port "$PLO" "$PHI")
HP=$(free_port "$PLO" "$PHI")
sw_start web --http "127.0.0.1:$HP" || { finish; exit 1; }
XSS='<img src=x onerror=alert(1)><script>alert(2)</script>'
"${SIPCAT[@]}" 127.0.0.1 "$SW_PORT" register --user alice --domain 127.0.0.1 --password wrong-one \
	--user-agent "$XSS" --contact '<sip:alice@127.0.0.1:5999>' >"$T/r1" 2>&1
"${SIPCAT[@]}" 127.0.0.1 "$SW_PORT" register --user alice --domain 127.0.0.1 --password 'alice-Secret-1' \
	--user-agent 'DeskPhone/2.1' --contact '<sip:alice@127.0.0.1:5999>' >"$T/r2" 2>&1
grep -q ' 200 OK' "$T/r2" && ok "alice registered after one wrong password" || not_ok "REGISTER: $(cat "$T/r1" "$T/r2")"
wait_match "the decision is in the event log" 'wrong-password' "$SIPWARDEN" why alice@127.0.0.1 --db "$SW_DB"

URL="http://127.0.0.1:$HP"
# in_dom DESC FILE REGEX
in_dom() { if grep -Eq -- "$3" "$2"; then ok "$1"; else not_ok "$1 (no /$3/ in the DOM: $(head -c 300 "$2"))"; fi; }
not_in_dom() { if grep -Eq -- "$3" "$2"; then not_ok "$1 (found /$3/)"; else ok "$1"; fi; }

chrome --dump-dom "$URL/" >"$T/overview.html" 2>"$T/overview.err"
in_dom "overview: rendered by the script" "$T/overview.html" '<body data-ready="1"'
failures=$(sed -n 's/.*<div id="failures">\(.*\)<\/div><h2>Bans.*/\1/p' "$T/overview.html")
printf '%s' "$failures" >"$T/failures.html"
in_dom "overview: the wrong password is among the latest failures" "$T/failures.html" 'sev-error">wrong-password<'
in_dom "overview: with the user (a link to their page) and the explanation" "$T/failures.html" \
	'href="/user\?aor=alice%40127.0.0.1">alice@127.0.0.1</a>.*computed with a different password'
in_dom "overview: the chart has the decision" "$T/overview.html" '<title>[0-9:]+ wrong-password: 1</title>'
in_dom "overview: registrations now" "$T/overview.html" '<div class="n" id="bindings">1</div>'
in_dom "the XSS attempt in the User-Agent is shown as text" "$T/overview.html" \
	'&lt;img src=x onerror=alert\(1\)&gt;&lt;script&gt;alert\(2\)&lt;/script&gt;'
not_in_dom "and never becomes an element" "$T/overview.html" '<img|<script>alert'

chrome --dump-dom "$URL/user?aor=alice%40127.0.0.1" >"$T/user.html" 2>"$T/user.err"
in_dom "user page: rendered by the script" "$T/user.html" '<body data-ready="1"'
in_dom "user page: the latest decision, ok" "$T/user.html" 'id="verdict".*sev-info">ok<'
in_dom "user page: and the last failure before it, with the fix" "$T/user.html" \
	'id="last-failure".*sev-error">wrong-password<.*Fix: </b>Re-enter the password'
in_dom "user page: why lists the wrong password with its fix" "$T/user.html" \
	'sev-error">wrong-password</span></td><td>[^<]*different password[^<]*</td><td>Re-enter the password'
in_dom "user page: the current binding with contact, user agent, source, transport" "$T/user.html" \
	'sip:alice@127.0.0.1:5999</span></td><td>DeskPhone/2.1</td><td><a [^>]*>127.0.0.1:[0-9]+</a></td><td>udp</td>'
not_in_dom "user page: no markup from the User-Agent" "$T/user.html" '<img|<script>alert'

chrome --dump-dom "$URL/search?q=alice" >"$T/search.html" 2>"$T/search.err"
in_dom "search by user name finds alice" "$T/search.html" 'id="results"><ul><li><a href="/user\?aor=alice%40127.0.0.1">'
chrome --dump-dom "$URL/search?q=127.0.0.1" >"$T/search2.html" 2>"$T/search2.err"
in_dom "search by source address lists its decisions" "$T/search2.html" 'id="results">.*wrong-password'

if grep -Eq 'Uncaught|:CONSOLE' "$T"/*.err; then
	not_ok "no console errors ($(grep -Eh 'Uncaught|:CONSOLE' "$T"/*.err | head -3))"
else
	ok "no console errors"
fi

SHOTS="${TMPDIR:-/tmp}"
for page in overview user; do
	path=/; [ $page = user ] && path="/user?aor=alice%40127.0.0.1"
	shot="$SHOTS/sipwarden-http-$page.png"
	rm -f "$shot"
	chrome --screenshot="$shot" --window-size=1280,1000 "$URL$path" >/dev/null 2>"$T/shot-$page.err"
	if [ -s "$shot" ] && [ "$(stat -c %s "$shot")" -gt 10000 ]; then
		ok "screenshot of the $page page: $shot ($(stat -c %s "$shot") bytes)"
	else
		not_ok "screenshot of the $page page ($(tail -2 "$T/shot-$page.err"))"
	fi
done
sw_stop
finish
