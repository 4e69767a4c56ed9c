#!/usr/bin/env bash
# Overload control, the quick form of bench/overload.sh: `sipwarden bench`
# starts registrations far beyond what the server (one worker) can take for
# a few seconds; the server answers some new REGISTERs and OPTIONS 503 with
# Retry-After instead of letting its queue grow, the generator honours them
# (waits, starts again) and counts them apart from failures, and a phone
# that answers its challenge still registers meanwhile. Ports 49500-49799.
. "$(dirname "$0")/serve_lib.sh"

SW_PORT=$(free_port 49500 49799) || { not_ok "no free port in 49500-49799"; finish; exit 1; }
for i in $(seq 0 999); do printf 'user%04d@127.0.0.1,pw-user%04d\n' "$i" "$i"; done >"$T/users.csv"
SW_DB=$T/ovl.db
"$SIPWARDEN" user import "$T/users.csv" --db "$SW_DB" >/dev/null
cat >"$T/ovl.conf" <<'EOF'
[ban]
enabled = no
[overload]
queue_delay = 20
retry_after = 1
retry_after_max = 2
EOF
sw_start ovl --config "$T/ovl.conf" --workers 1 || { finish; exit 1; }

# the flood: 3 s of registrations at a rate no build of the server takes
timeout 60 "$SIPWARDEN" bench --target "127.0.0.1:$SW_PORT" --user-pattern 'user%04d@127.0.0.1:pw-user%04d' \
	--users 1000 --rate 30000 --count 90000 --duration 3 --drain 8 --inflight 60000 --json \
	>"$T/flood.json" 2>"$T/flood.err" &
flood=$!
bg_track "$flood"
sleep 1

# meanwhile: an OPTIONS answered 503 with Retry-After, and a phone that
# answers its challenge (and a 503's Retry-After) registers
got503=no
for i in $(seq 1 40); do
	"${SIPCAT[@]}" --timeout 0.5 --out "$T/opt$i" 127.0.0.1 "$SW_PORT" options >"$T/opt$i.out" 2>&1 || true
	if grep -q 'SIP/2.0 503' "$T/opt$i.out"; then got503=$i; break; fi
done
if [ "$got503" != no ]; then
	ok "an OPTIONS during the flood was answered 503"
	expect_match "the 503 says Retry-After (RFC 3261 §21.5.4)" "$(cat "$T/opt$got503".* 2>/dev/null | tr -d '\r')" \
		'Retry-After: [12]'
else
	not_ok "no OPTIONS answered 503 during the flood (last: $(cat "$T/opt40.out" 2>/dev/null))"
fi
registered=no
for i in $(seq 1 15); do
	"${SIPCAT[@]}" --timeout 2 127.0.0.1 "$SW_PORT" register --user user0001 --domain 127.0.0.1 \
		--password pw-user0001 >"$T/phone.out" 2>&1 || true
	if grep -q 'SIP/2.0 200' "$T/phone.out"; then registered=yes; break; fi
	sleep 1 # a 503 asks for at most retry_after_max = 2 s
done
[ "$registered" = yes ] && ok "a phone answering its challenge registered during the flood (try $i)" ||
	not_ok "the phone did not register: $(tr '\n' ' ' <"$T/phone.out")"

wait "$flood" 2>/dev/null
j=$(cat "$T/flood.json")
n503=$(printf '%s' "$j" | json_q 'j["overloaded_503"]' 2>/dev/null || echo 0)
[ "${n503:-0}" -gt 0 ] && ok "the generator got $n503 503s with Retry-After and honoured them" ||
	not_ok "the generator got no 503 with Retry-After: ${j:0:400} $(tail -c 300 "$T/flood.err")"
other=$(printf '%s' "$j" | json_q 'j["failed"] - j["unfinished"]' 2>/dev/null || echo x)
[ "$other" = 0 ] && ok "no registration failed for another reason (503s are not failures)" ||
	not_ok "registrations failed other than unfinished: $other (${j:0:500})"
done_n=$(printf '%s' "$j" | json_q 'j["completed"]' 2>/dev/null || echo 0)
[ "${done_n:-0}" -gt 0 ] && ok "registrations completed under the flood: $done_n" || not_ok "none completed"
wait_match "the log says what was shed, per second" '"overload":\{"worker":0,"shed":[1-9]' cat "$T/ovl.log"
wait_match "the 503s are server-overloaded decisions, aggregated per source" \
	'"cause":"server-overloaded","repeated":[0-9]+,"detail":"[0-9]+ more like this from 127.0.0.1' cat "$T/ovl.log"
wait_match "the 503s are events (one per address and second) naming the To AOR" 'server-overloaded.*user[0-9]{4}@127\.0\.0\.1|user[0-9]{4}@127\.0\.0\.1.*server-overloaded' \
	"$SIPWARDEN" events --db "$SW_DB" --cause server-overloaded --limit 1 --json
sw_alive "the server answers after the flood"
sw_stop
finish
