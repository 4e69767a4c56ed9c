#!/usr/bin/env bash
# linphone (Debian's linphone-cli: linphonec) through sipwarden serve, configured as its users
# configure it: an account (proxy_0 with reg_sendregister, auth_info_0 with the password) in
# its linphonerc, nothing else changed; each phone with its own HOME (linphone keeps its call
# history there) and commands on standard input. Alice (UDP) calls bob (UDP): she gives up
# while it rings (CANCEL, 487), he declines (603), he answers: the call is established on
# both sides, RTP flows both ways (linphone's own stream statistics, every second in its
# log), `calls` and `events` say so, she holds and resumes (re-INVITEs in the dialog, not
# challenged), chats (MESSAGE), bob never sees her Proxy-Authorization; she transfers him to
# carol (TCP, auto-answer; REFER and NOTIFY in the dialog, bob's own INVITE to carol), carol
# hangs up. Then alice calls carol, and carol hangs up; then erin on TLS (linphone verifies
# the server's certificate against its root_ca, by the name localhost; the server has no
# [tls] ca, so it asks for no client certificate: asked, linphonec stops at a prompt),
# reached on the connection she registered on. A linphone with a wrong password is refused
# and `why` says wrong-password. Each phone unregisters when it quits. When tcpdump may
# capture on lo, `sipwarden analyze` explains the capture of the calls to bob: no failure,
# one call cancelled, one declined. Ports 35000-35999.
. "$(dirname "$0")/serve_lib.sh"
PX_LOW=35000 PX_HIGH=35999
. "$TOOLS/proxy_lib.sh"
if ! command -v linphonec >/dev/null; then
	echo "# SKIP: linphonec not installed (scripts/deps.sh installs linphone-cli)"
	finish; exit
fi
SW_DB="$T/lp.db"
sw_user add alice@127.0.0.1 --password 'al1ce-Pass' >/dev/null
sw_user add bob@127.0.0.1 --password 'b0b-Pass' >/dev/null
sw_user add carol@127.0.0.1 --password 'car0l-Pass' >/dev/null
sw_user add dave@127.0.0.1 --password 'd4ve-Pass' >/dev/null
sw_user add erin@127.0.0.1 --password 'er1n-Pass' >/dev/null
# a private CA and a certificate for localhost and 127.0.0.1, made with the openssl CLI
C=$T/pki
mkdir -p "$C"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$C/srv.ext"
if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$C/ca.key" \
	-out "$C/ca.pem" -days 2 -subj "/CN=linphone test CA" -addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$C/srv.key" \
		-out "$C/srv.csr" -subj "/CN=localhost" 2>/dev/null &&
	openssl x509 -req -in "$C/srv.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial \
		-out "$C/srv.pem" -days 2 -extfile "$C/srv.ext" 2>/dev/null; then
	printf '[tls]\ncertificate = %s\nprivate_key = %s\n' "$C/srv.pem" "$C/srv.key" >"$T/tls.conf"
else
	not_ok "openssl could not make the test certificates"; finish; exit 1
fi
SW_PORT=$(px_port) TLS_PORT=$(px_port)
sw_start lp --config "$T/tls.conf" --listen "tls:127.0.0.1:$TLS_PORT" || { finish; exit 1; }

declare -A LP_PID LP_FD
# lp_start NAME USER PASSWORD TRANSPORT [-a]: a linphonec registered as USER over TRANSPORT
# (udp, tcp, tls: to localhost, which the certificate names), -a: answers calls itself. Its log (-d 5: every SIP message) in $T/NAME.log,
# its console in $T/NAME.out, its commands through the FIFO $T/NAME.in (fd LP_FD[NAME]).
lp_start() {
	local name=$1 user=$2 pass=$3 tr=$4 auto=${5:-} d=$T/$1 sip rtp
	mkdir -p "$d/.local/share/linphone"
	sip=$(px_port) && rtp=$(px_eblock 4) || { not_ok "$name: no free ports"; return 1; }
	local udp=$sip tcp=-1 tls=-1 uri="<sip:127.0.0.1:$SW_PORT>"
	case $tr in
	tcp) udp=-1 tcp=$sip uri="<sip:127.0.0.1:$SW_PORT;transport=tcp>" ;;
	tls) udp=-1 tls=$sip uri="<sip:localhost:$TLS_PORT;transport=tls>" ;;
	esac
	cat >"$d/linphonerc" <<CONF
[sip]
sip_port=$udp
sip_tcp_port=$tcp
sip_tls_port=$tls
root_ca=$C/ca.pem
default_proxy=0

[rtp]
audio_rtp_port=$rtp
video_rtp_port=$((rtp + 2))

[proxy_0]
reg_proxy=$uri
reg_identity=<sip:$user@127.0.0.1>
reg_expires=600
reg_sendregister=1
publish=0

[auth_info_0]
username=$user
passwd=$pass
CONF
	rm -f "$T/$name.in"
	mkfifo "$T/$name.in"
	HOME="$d" timeout --foreground 120 linphonec -c "$d/linphonerc" $auto -d 5 -l "$T/$name.log" \
		<"$T/$name.in" >"$T/$name.out" 2>&1 &
	LP_PID[$name]=$!
	bg_track "${LP_PID[$name]}"
	local fd
	exec {fd}>"$T/$name.in"
	LP_FD[$name]=$fd
}
# lp_cmd NAME COMMAND: a command on the phone's console
lp_cmd() { printf '%s\n' "$2" >&"${LP_FD[$1]}"; }
# lp_wait DESC NAME REGEX [SECONDS]: its console shows REGEX within SECONDS (default 10)
lp_wait() {
	local i
	for i in $(seq 1 $((${4:-10} * 10))); do
		grep -Eq -- "$3" "$T/$2.out" && { ok "$1"; return 0; }
		sleep 0.1
	done
	not_ok "$1 (no /$3/ on $2's console: $(tail -c 400 "$T/$2.out" | tr '\n' ' '))"
	return 1
}
# lp_quit NAME: quits (linphone unregisters first) and waits up to 10 s for the exit
lp_quit() {
	lp_cmd "$1" quit
	exec {LP_FD[$1]}>&-
	local i
	for i in $(seq 1 100); do kill -0 "${LP_PID[$1]}" 2>/dev/null || break; sleep 0.1; done
}
# rtp_both NAME: linphone's stream statistics in its log show RTP received and sent
# ("RTP : [d=0.17,u=0.77]" in kbit/s, every second of a call): both above zero at least once
rtp_both() {
	grep -aEo 'RTP : \[d=[0-9.]+,u=[0-9.]+\]' "$T/$1.log" |
		awk -F'[=,\\]]' '$2 > 0 && $4 > 0 { n++ } END { exit n > 0 ? 0 : 1 }'
}
regs() { "$SIPWARDEN" registrations --json --db "$SW_DB"; }

# a capture of the server's UDP port on lo, when tcpdump may open it: `sipwarden analyze`
# then explains these calls
CAPTURE=
tcpdump_usable && CAPTURE=1
if [ -n "$CAPTURE" ]; then
	timeout 100 tcpdump -i lo -n -U -s 0 -w "$T/udp.pcap" "udp port $SW_PORT" >"$T/udp.tcpdump" 2>&1 </dev/null &
	CAP_PID=$!
	bg_track "$CAP_PID"
	sleep 0.5
else
	echo "# no packet capture (tcpdump missing or not permitted): analyze is not checked"
fi

# --- alice (UDP) calls bob (UDP): cancelled, declined, answered -----------------------------
lp_start bob bob 'b0b-Pass' udp && lp_start alice alice 'al1ce-Pass' udp ||
	{ finish; exit 1; }
wait_match "bob registers (linphone over UDP)" '"aor":"bob@127.0.0.1".*"user_agent":"Linphonec' regs
wait_match "alice registers (linphone over UDP)" '"aor":"alice@127.0.0.1".*"user_agent":"Linphonec' regs
# 1: alice gives up while bob's phone rings (CANCEL, 487)
lp_cmd alice "call sip:bob@127.0.0.1"
lp_wait "bob's linphone rings" bob 'Receiving new incoming call from sip:alice@127.0.0.1, assigned id 1'
lp_wait "alice hears the ringing (180 through the proxy)" alice 'Call 1 to sip:bob@127.0.0.1 ringing'
lp_cmd alice terminate
lp_wait "alice cancels: bob's phone stops ringing" bob 'Call 1 with sip:alice@127.0.0.1 ended \(Not answered\)'
wait_match "calls: alice -> bob cancelled (487)" \
	'"caller":"alice@127.0.0.1","callee":"bob@127.0.0.1",[^}]*"state":"cancelled","status":487' calls_json
# 2: bob declines (603)
lp_cmd alice "call sip:bob@127.0.0.1"
lp_wait "bob's linphone rings again" bob 'Receiving new incoming call from sip:alice@127.0.0.1, assigned id 2'
lp_cmd bob terminate
lp_wait "bob declines: alice's linphone says so" alice 'Call 2 with sip:bob@127.0.0.1 ended \(Call declined\)'
wait_match "calls: alice -> bob failed (603), callee-declined" \
	'"caller":"alice@127.0.0.1","callee":"bob@127.0.0.1",[^}]*"state":"failed","status":603,"cause":"callee-declined"' calls_json
# 3: bob answers; alice holds and resumes (re-INVITEs in the dialog), chats, hangs up
lp_cmd alice "call sip:bob@127.0.0.1"
lp_wait "bob's linphone rings a third time" bob 'Receiving new incoming call from sip:alice@127.0.0.1, assigned id 3'
lp_cmd bob answer
lp_wait "bob answers the call" bob 'Call 3 with sip:alice@127.0.0.1 connected'
lp_wait "alice's call is connected" alice 'Call 3 with sip:bob@127.0.0.1 connected'
lp_wait "media streams up on bob's side" bob 'Media streams established with sip:alice@127.0.0.1'
wait_match "calls: alice -> bob established (200)" \
	'"caller":"alice@127.0.0.1","callee":"bob@127.0.0.1",[^}]*"state":"established","status":200' calls_json
ok_rtp=
for i in $(seq 1 50); do
	rtp_both bob && rtp_both alice && { ok_rtp=1; break; }
	sleep 0.2
done
[ -n "$ok_rtp" ] && ok "RTP flows both ways (linphone's statistics on both sides)" ||
	not_ok "no RTP both ways: bob $(grep -aEo 'RTP : \[[^]]*\]' "$T/bob.log" | tail -n 2 | tr '\n' ' ') alice $(grep -aEo 'RTP : \[[^]]*\]' "$T/alice.log" | tail -n 2 | tr '\n' ' ')"
lp_cmd alice pause
lp_wait "alice holds: bob's linphone sees the re-INVITE" bob 'Call 3 has been paused by sip:alice@127.0.0.1'
lp_wait "alice's hold is done (200 to her re-INVITE)" alice 'Call 3 with sip:bob@127.0.0.1 is now paused'
lp_cmd alice resume
for i in $(seq 1 100); do
	[ "$(grep -c 'Media streams established with sip:alice@127.0.0.1 for call 3' "$T/bob.out")" -ge 2 ] && break
	sleep 0.1
done
[ "$i" -lt 100 ] && ok "alice resumes: the streams are back on bob's side" ||
	not_ok "no second 'Media streams established' on bob's console after the resume: alice's: $(tail -c 300 "$T/alice.out" | tr '\n' ' ')"
n407=$(grep -ac '^SIP/2.0 407' "$T/alice.log")
[ "$n407" -eq 3 ] && ok "the re-INVITEs of the dialog are not challenged (3 407s, one per new call)" ||
	not_ok "alice got $n407 407s for 3 calls and 2 re-INVITEs"
lp_cmd alice "chat sip:bob@127.0.0.1 hello bob"
lp_wait "alice's chat message reaches bob (MESSAGE through the proxy)" bob \
	'Message received from sip:alice@127.0.0.1: hello bob'
event_match "events: alice's MESSAGE to bob authenticated" '"auth_user":"alice".*MESSAGE to bob@127.0.0.1: authenticated' \
	"e.get('aor')=='alice@127.0.0.1' and e.get('cause')=='ok'" --method MESSAGE
n_pa=$(grep -Eac '^Proxy-Authorization:.*username="alice"' "$T/alice.log")
[ "$n_pa" -ge 1 ] && ok "alice's linphone sent Proxy-Authorization ($n_pa times)" ||
	not_ok "alice's log has no Proxy-Authorization: the check below would prove nothing"
grep -aq '^INVITE sip:bob@' "$T/bob.log" && ok "bob's log holds the INVITE it received" ||
	not_ok "bob's log has no INVITE: the check below would prove nothing"
grep -aEq '^Proxy-Authorization:.*username="alice"' "$T/bob.log" &&
	not_ok "bob received alice's Proxy-Authorization" || ok "bob never received alice's Proxy-Authorization"
event_match "events: alice's first INVITE to bob challenged (no-credentials)" '"user_agent":"Linphonec.*INVITE to bob@127.0.0.1' \
	"e.get('aor')=='alice@127.0.0.1' and e.get('cause')=='no-credentials'" --method INVITE
event_match "events: alice's INVITE to bob with her digest authenticated" '"auth_user":"alice".*INVITE to bob@127.0.0.1: authenticated' \
	"e.get('aor')=='alice@127.0.0.1' and e.get('cause')=='ok'" --method INVITE

# the capture of these calls, analysed: the cancelled call and the declined one are no
# failures, nor is anything else in it
if [ -n "$CAPTURE" ]; then
	sleep 2 # bob's delivery notifications of the chat, and their answers to the 407
	kill -INT "$CAP_PID" 2>/dev/null
	wait "$CAP_PID" 2>/dev/null
	OUT=$("$SIPWARDEN" analyze "$T/udp.pcap" --json 2>&1)
	S=$(printf '%s' "$OUT" | python3 -c 'import json,sys; s=json.load(sys.stdin)["summary"]; print(s["failed"], sorted(s["by_cause"].items()))' 2>&1)
	# each leg counts: alice to the server, the server to bob
	expect_match "analyze: the calls of the capture have no failure, one cancelled and one declined (2 legs each)" "$S" \
		"^0 .*\('callee-declined', 2\).*\('request-cancelled', 2\)"
	OUT=$("$SIPWARDEN" analyze "$T/udp.pcap" 2>&1)
	[[ $OUT != *request-refused* ]] && ok "analyze: the callee's 603 is not called a refusal by the server" ||
		not_ok "analyze calls the 603 a refusal: ${OUT:0:600}"
fi

# --- alice transfers bob to carol (TCP, auto-answer): REFER and NOTIFY in the dialog ---------
lp_start carol carol 'car0l-Pass' tcp -a || { finish; exit 1; }
wait_match "carol registers (linphone over TCP)" \
	'"aor":"carol@127.0.0.1".*"transport":"tcp".*"user_agent":"Linphonec' regs
lp_cmd alice "transfer 3 sip:carol@127.0.0.1"
lp_wait "bob, transferred, calls carol (TCP): she answers" carol 'Call 1 with sip:bob@127.0.0.1 connected'
lp_wait "the transfer's NOTIFY reaches alice" alice \
	'The distant endpoint sip:bob@127.0.0.1 of call 3 has been transfered'
lp_wait "alice's call with bob ends after the transfer" alice 'Call 3 with sip:bob@127.0.0.1 ended'
event_match "events: bob's INVITE to carol authenticated with his own digest" \
	'"auth_user":"bob".*INVITE to carol@127.0.0.1: authenticated' \
	"e.get('aor')=='bob@127.0.0.1' and e.get('cause')=='ok'" --method INVITE
wait_match "calls: bob -> carol established" \
	'"caller":"bob@127.0.0.1","callee":"carol@127.0.0.1",[^}]*"state":"established"' calls_json
wait_match "calls: alice -> bob ended" \
	'"caller":"alice@127.0.0.1","callee":"bob@127.0.0.1",[^}]*"state":"ended","status":200,[^}]*"ended_ms":[1-9]' calls_json
lp_cmd carol terminate
lp_wait "carol hangs up: bob's side sees it" bob 'Call [0-9]+ with sip:carol@127.0.0.1 ended'
wait_match "calls: bob -> carol ended" \
	'"caller":"bob@127.0.0.1","callee":"carol@127.0.0.1",[^}]*"state":"ended","status":200' calls_json

# --- alice calls carol (TCP), carol hangs up ----------------------------------------------
lp_cmd alice "call sip:carol@127.0.0.1"
lp_wait "carol's linphone (TCP) answers alice's call" carol 'Call [0-9]+ with sip:alice@127.0.0.1 connected'
lp_wait "alice's call to carol is connected" alice 'Call [0-9]+ with sip:carol@127.0.0.1 connected'
lp_wait "media streams up on carol's side" carol 'Media streams established with sip:alice@127.0.0.1'
lp_cmd carol terminate
lp_wait "alice's side sees carol hang up" alice 'Call [0-9]+ with sip:carol@127.0.0.1 ended'
wait_match "calls: alice -> carol ended" \
	'"caller":"alice@127.0.0.1","callee":"carol@127.0.0.1",[^}]*"state":"ended","status":200,[^}]*"ended_ms":[1-9]' calls_json
grep -aEq '^Proxy-Authorization:.*username="alice"' "$T/carol.log" &&
	not_ok "carol received alice's Proxy-Authorization" || ok "carol never received alice's Proxy-Authorization"

# --- alice calls erin (TLS), alice hangs up ------------------------------------------------
lp_start erin erin 'er1n-Pass' tls -a || { finish; exit 1; }
wait_match "erin registers (linphone over TLS, the server's certificate verified)" \
	'"aor":"erin@127.0.0.1".*"transport":"tls".*"user_agent":"Linphonec' regs
grep -aq 'SSL handshake finished' "$T/erin.log" && ok "erin's linphone finished the TLS handshake" ||
	not_ok "no TLS handshake in erin's log: $(grep -a -m3 -i 'handshake\|certificate' "$T/erin.log" | tr '\n' ' ')"
lp_cmd alice "call sip:erin@127.0.0.1"
lp_wait "erin's linphone (TLS) answers alice's call" erin 'Call [0-9]+ with sip:alice@127.0.0.1 connected'
lp_wait "alice's call to erin is connected" alice 'Call [0-9]+ with sip:erin@127.0.0.1 connected'
grep -aEq '^Via: SIP/2.0/TLS 127.0.0.1:'"$TLS_PORT" "$T/erin.log" &&
	ok "the INVITE reached erin over TLS from the server's TLS port" ||
	not_ok "no Via of the server's TLS port in erin's log"
lp_cmd alice terminate
lp_wait "erin's side sees the call end" erin 'Call [0-9]+ with sip:alice@127.0.0.1 ended'
wait_match "calls: alice -> erin ended" \
	'"caller":"alice@127.0.0.1","callee":"erin@127.0.0.1",[^}]*"state":"ended","status":200,[^}]*"ended_ms":[1-9]' calls_json
grep -aEq '^Proxy-Authorization:.*username="alice"' "$T/erin.log" &&
	not_ok "erin received alice's Proxy-Authorization" || ok "erin never received alice's Proxy-Authorization"

# --- a wrong password --------------------------------------------------------------------------
lp_start dave dave 'not-the-password' udp || { finish; exit 1; }
wait_match "why dave: linphone's REGISTER with a wrong password is wrong-password" \
	'"method":"REGISTER".*"cause":"wrong-password"' "$SIPWARDEN" why dave@127.0.0.1 --json --db "$SW_DB"
OUT=$(regs)
[[ $OUT != *'"aor":"dave@127.0.0.1"'* ]] && ok "dave is not registered" || not_ok "dave registered: $OUT"

# --- every phone quits and unregisters -----------------------------------------------------
for p in alice bob carol erin dave; do lp_quit "$p"; done
wait_match "no registration left once the phones quit" '^\[\]$' regs
sw_alive "server answers after the linphone calls"
sw_stop
finish
