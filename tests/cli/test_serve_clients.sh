#!/usr/bin/env bash
# sipwarden serve with real SIP clients: sipsak (usrloc mode) and baresip
# registering for real with a config and accounts file written here.
. "$(dirname "$0")/serve_lib.sh"

SW_DB="$T/clients.db"
sw_user add alice@127.0.0.1 --password secret >/dev/null
sw_user add bob@127.0.0.1 --password 'b0b-Pass' >/dev/null
REGS() { "$SIPWARDEN" registrations "$@" --json --db "$SW_DB"; }

# --- sipsak -----------------------------------------------------------
# sipsak takes the digest username from the URI as "alice@" (a sipsak
# quirk the server diagnoses as username-has-domain): -u sets it.
sw_start sipsak --min-expires 10 || { finish; exit 1; }
if command -v sipsak >/dev/null; then
	LP=$(free_port)
	OUT=$(timeout 20 sipsak -U -C "sip:alice@127.0.0.1:$LP" -x 120 -s "sip:alice@127.0.0.1:$SW_PORT" \
		-u alice -a secret -i 2>&1); rc=$?
	[ $rc -eq 0 ] && ok "sipsak -U registers alice (exit 0)" || not_ok "sipsak exit $rc: ${OUT:0:600}"
	OUT=$(REGS alice@127.0.0.1)
	expect_match "registrations shows sipsak's contact, 120 s, user agent sipsak" "$OUT" \
		"\"contact\":\"sip:alice@127.0.0.1:$LP\".*\"expires_in\":1(19|20),.*\"user_agent\":\"sipsak"
	OUT=$(timeout 20 sipsak -U -C "sip:alice@127.0.0.1:$LP" -x 120 -s "sip:alice@127.0.0.1:$SW_PORT" \
		-u alice -a wrong-secret -i 2>&1); rc=$?
	[ $rc -ne 0 ] && ok "sipsak with a wrong password fails (exit $rc)" || not_ok "sipsak with a wrong password succeeded"
	wait_match "why alice: wrong-password from sipsak" '"user_agent":"sipsak[^"]*","cause":"wrong-password"' \
		"$SIPWARDEN" why alice@127.0.0.1 --json --last 1 --db "$SW_DB"
	# without -u, sipsak answers as "alice@": refused, and the server says why
	OUT=$(timeout 20 sipsak -U -C "sip:alice@127.0.0.1:$LP" -x 120 -s "sip:alice@127.0.0.1:$SW_PORT" \
		-a secret -i 2>&1)
	wait_match "sipsak's 'alice@' username is diagnosed as username-has-domain" '"cause":"username-has-domain"' \
		"$SIPWARDEN" why alice@127.0.0.1 --json --last 1 --db "$SW_DB"
	# unregister: Expires 0
	OUT=$(timeout 20 sipsak -U -C "sip:alice@127.0.0.1:$LP" -x 0 -s "sip:alice@127.0.0.1:$SW_PORT" \
		-u alice -a secret -i 2>&1)
	OUT=$(REGS alice@127.0.0.1)
	[[ $OUT != *"127.0.0.1:$LP\""* ]] && ok "sipsak -x 0 removes the binding" || not_ok "binding still there: $OUT"
else
	echo "# SKIP sipsak: not installed (scripts/deps.sh installs it)"
fi
sw_alive "server answers after sipsak"
sw_stop

# --- baresip ----------------------------------------------------------
# baresip 1.0 (libre) gives up on a 401 that carries a challenge for an
# algorithm it does not know ("Register: Function not implemented" on the
# SHA-256 one) instead of answering the MD5 one: this server offers MD5 only.
if ! command -v baresip >/dev/null; then
	echo "# SKIP baresip: not installed (scripts/deps.sh installs it)"
	finish; exit
fi
printf '[auth]\nalgorithms = MD5\n' >"$T/md5.conf"
SW_PORT=
sw_start baresip --config "$T/md5.conf" || { finish; exit 1; }
H="$T/home"; mkdir -p "$H/.baresip"
LP=$(free_port)
# headless: no audio device, no console UI; aufile reads/writes /dev/null
cat >"$H/.baresip/config" <<EOF
poll_method		epoll
sip_listen		127.0.0.1:$LP
module_path		/usr/lib/baresip/modules
module			g711.so
module			aufile.so
audio_player		aufile,/dev/null
audio_source		aufile,/dev/null
audio_alert		aufile,/dev/null
module_app		account.so
EOF
echo "<sip:bob@127.0.0.1:$SW_PORT;transport=udp>;auth_pass=b0b-Pass;regint=60" >"$H/.baresip/accounts"
# --foreground: a SIGTERM to timeout reaches baresip once (without it, timeout
# also signals its process group, and baresip quits at once on a second
# SIGTERM, sometimes before its unregistration is answered)
HOME="$H" timeout --foreground 30 baresip -f "$H/.baresip" >"$T/baresip.out" 2>&1 </dev/null &
BP=$!
bg_track "$BP"
got=
for i in $(seq 1 50); do
	OUT=$(REGS bob@127.0.0.1)
	if [[ $OUT == *'"user_agent":"baresip'* ]]; then got=1; break; fi
	kill -0 "$BP" 2>/dev/null || break
	sleep 0.1
done
if [ -n "$got" ]; then
	ok "baresip registers bob: registrations shows its binding with user agent baresip"
	expect_match "baresip's contact is its sip_listen address, expires 60 s" "$OUT" \
		"\"contact\":\"sip:bob[^\"]*@127\\.0\\.0\\.1:$LP[;\"].*\"expires_in\":(59|60),"
	expect_match "baresip says 200 OK" "$(cat "$T/baresip.out")" '200 OK'
else
	not_ok "baresip did not register within 5 s: $(tail -c 800 "$T/baresip.out" | tr -d '\033')"
fi
wait_match "why bob: ok from baresip" '"cause":"ok"' "$SIPWARDEN" why bob@127.0.0.1 --json --last 1 --db "$SW_DB"
# baresip unregisters when it quits (SIGTERM)
kill -TERM "$BP" 2>/dev/null
for i in $(seq 1 50); do kill -0 "$BP" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$BP" 2>/dev/null
wait "$BP" 2>/dev/null
if ! wait_match "baresip unregistered when it stopped" '^\[\]$' REGS bob@127.0.0.1; then
	echo "# why bob: $("$SIPWARDEN" why bob@127.0.0.1 --json --last 4 --db "$SW_DB" 2>&1 | head -c 1500)"
	echo "# baresip: $(sed 's/\x1b\[[0-9;]*m//g' "$T/baresip.out" | tail -c 1500)"
fi
wait_match "why bob: the last event is baresip's unregistration" '"cause":"ok".*"detail":"unregistered"' \
	"$SIPWARDEN" why bob@127.0.0.1 --json --last 1 --db "$SW_DB"
sw_alive "server answers after baresip"
sw_stop

# with the server's default challenges (MD5 alone, chosen because of the
# above) baresip registers
SW_PORT=
sw_start baresip2 || { finish; exit 1; }
LP=$(free_port)
sed -i "s/^sip_listen.*/sip_listen\t\t127.0.0.1:$LP/" "$H/.baresip/config"
echo "<sip:bob@127.0.0.1:$SW_PORT;transport=udp>;auth_pass=b0b-Pass;regint=60" >"$H/.baresip/accounts"
HOME="$H" timeout 10 baresip -f "$H/.baresip" -t 3 >"$T/baresip2.out" 2>&1 </dev/null
if grep -q '200 OK' "$T/baresip2.out"; then
	ok "baresip registers with the server's default challenges"
else
	not_ok "baresip with the default challenges: $(grep -a 'reg:' "$T/baresip2.out" | sed 's/\x1b\[[0-9;]*m//g' | head -n1)"
fi
sw_stop
finish
