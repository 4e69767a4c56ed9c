#!/usr/bin/env bash
# sipwarden analyze on captures of a real softphone: dumpcap records the
# loopback while baresip (headless, config and accounts file written here,
# as in test_serve_clients.sh) registers against `sipwarden serve` (MD5
# challenges only: baresip 1.0 gives up on a SHA-256 one). With the right
# password the flow is ok, and proved with --credentials; with a wrong one in
# baresip's accounts file, analyze says credentials-rejected on the wire
# alone and wrong-password with the real password in --credentials. Every
# verdict is checked by its cause id in `analyze --json`. Ports: random,
# 61000-61999 on 127.0.0.1. Every process started here is stopped on exit.
# Prints "# SKIP" and exits 0 only when dumpcap or baresip cannot run here.
. "$(dirname "${BASH_SOURCE[0]}")/serve_lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/capture_lib.sh"

BARESIP_MODS=/usr/lib/baresip/modules
if ! command -v baresip >/dev/null || [ ! -e "$BARESIP_MODS/account.so" ]; then
	echo "# SKIP baresip or its modules not installed (scripts/deps.sh installs it)"
	exit 0
fi
if ! why=$(cap_usable); then echo "# SKIP $why"; exit 0; fi
START=$SECONDS
bport() { free_port 61000 61999; }
# json_flows EXPR: EXPR over the JSON of the last analyze ($OUT)
json_flows() { printf '%s' "$OUT" | json_q "$1"; }

printf '[auth]\nalgorithms = MD5\n[ban]\nenabled = no\n' >"$T/md5.conf"
SW_DB="$T/baresip.db"
SW_PORT=$(bport) || { not_ok "no free port"; finish; exit 1; }
sw_user add alice@127.0.0.1 --password secret >/dev/null || not_ok "user add alice"
sw_start baresip --config "$T/md5.conf" || { finish; exit 1; }
echo 'alice@127.0.0.1,secret' >"$T/creds"

# baresip_reg NAME PASSWORD: baresip registers alice with PASSWORD and quits
# by itself after 3 s (-t 3); its output in $T/NAME.out. A registration
# refused again after the answer is not retried within those 3 s (baresip
# answers the new challenges at once, 16 times in all, then waits before
# trying again), so the capture of the first 4 packets is the scenario.
H="$T/home"
mkdir -p "$H/.baresip"
baresip_reg() {
	local lp; lp=$(bport)
	cat >"$H/.baresip/config" <<EOF
poll_method		epoll
sip_listen		127.0.0.1:$lp
module_path		$BARESIP_MODS
module			g711.so
module			aufile.so
audio_player		aufile,/dev/null
audio_source		aufile,/dev/null
audio_alert		aufile,/dev/null
module_app		account.so
EOF
	echo "<sip:alice@127.0.0.1:$SW_PORT;transport=udp>;auth_pass=$2;regint=60" >"$H/.baresip/accounts"
	HOME="$H" timeout --foreground 10 baresip -f "$H/.baresip" -t 3 >"$T/$1.out" 2>&1 </dev/null &
	local bp=$!
	bg_track "$bp"
	wait "$bp"
	BARESIP_RC=$?
	sed -i 's/\x1b\[[0-9;]*m//g' "$T/$1.out"
}

# 1. the right password: REGISTER, 401, REGISTER, 200
cap_start bgood 4
baresip_reg bgood secret
cap_stop
expect_match "baresip, right password: registers (200 OK)" "$(cat "$T/bgood.out")" '^alice@127\.0\.0\.1: .*200 OK'
[ "$BARESIP_RC" -eq 0 ] && ok "baresip, right password: quits by itself (exit 0)" ||
	not_ok "baresip, right password: exit $BARESIP_RC: $(tail -c 400 "$T/bgood.out")"
expect_causes "capture, baresip, right password" ok "$T/bgood.pcapng"
expect_match "the flow is REGISTER, 401, REGISTER, 200" \
	"$(json_flows '" ".join(m["first_line"].split(" ")[m["first_line"].startswith("SIP/")] for m in j["flows"][0]["messages"])' 2>&1)" \
	'^REGISTER 401 REGISTER 200$'
expect_causes "capture, baresip, right password, --credentials" ok --credentials "$T/creds" "$T/bgood.pcapng"
expect_match "the right password is proved" "$(json_flows 'j["flows"][0]["proved"]')" '^True$'

# 2. a wrong password in baresip's accounts file: REGISTER, 401, REGISTER, 401
cap_start bwrong 4
baresip_reg bwrong not-the-secret
cap_stop
expect_match "baresip, wrong password: refused (401)" "$(cat "$T/bwrong.out")" '^reg: sip:alice@127\.0\.0\.1:[0-9]+: 401 Unauthorized'
[ "$BARESIP_RC" -eq 0 ] && ok "baresip, wrong password: quits by itself (exit 0)" ||
	not_ok "baresip, wrong password: exit $BARESIP_RC: $(tail -c 400 "$T/bwrong.out")"
expect_causes "capture, baresip, wrong password" credentials-rejected "$T/bwrong.pcapng"
expect_causes "capture, baresip, wrong password, --credentials" wrong-password --credentials "$T/creds" "$T/bwrong.pcapng"
expect_match "the wrong password is proved" "$(json_flows 'j["flows"][0]["proved"]')" '^True$'
expect_match "the flow is REGISTER, 401, REGISTER, 401, the last one refused" \
	"$(json_flows '" ".join(m["first_line"].split(" ")[m["first_line"].startswith("SIP/")] for m in j["flows"][0]["messages"]) + " " + str(j["flows"][0]["final_status"])' 2>&1)" \
	'^REGISTER 401 REGISTER 401 401$'

sw_alive "server answers after baresip"
sw_stop
echo "# run time $((SECONDS - START)) s"
finish
