#!/usr/bin/env bash
# fuzz/seeds.sh TARGET OUTDIR — writes the seed inputs of one libFuzzer
# target into OUTDIR, taken from the corpus ($SW_CORPUS, default
# ../shared/corpus next to the repository). At most 600 files per target.
#
#   fuzz_msg   whole messages: RFC 4475/5118 files, rtckit stream messages
#              and call-flow messages, a sample of PROTOS cases
#   fuzz_uri   URIs: Request-URIs and <...> contents of those messages, the
#              JAIN-SIP sip-url cases
#   fuzz_auth  Authorization / Proxy-Authorization / WWW-Authenticate /
#              Proxy-Authenticate values (folded lines joined)
#   fuzz_prefix  addresses and networks (hand-made: IPv4, IPv6, mapped, /0)
#   other      (e.g. fuzz_verify) REGISTER messages carrying Authorization,
#              then other REGISTERs
#
# Needs only bash, awk, sed, grep, tar. Exit status 2 on a usage error.
set -euo pipefail

if [ $# -ne 2 ]; then
	echo "usage: fuzz/seeds.sh TARGET OUTDIR" >&2
	exit 2
fi
target=$1
out=$2
root=$(cd "$(dirname "$0")/.." && pwd)
corpus=${SW_CORPUS:-$root/../shared/corpus}
if [ ! -d "$corpus" ]; then
	echo "seeds.sh: no corpus at $corpus (set SW_CORPUS)" >&2
	exit 1
fi
MAX=600
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ---- message sources, each written as one file per message into $work/msgs

msgs=$work/msgs
mkdir -p "$msgs"

rfc4475() {
	local f n=0
	for f in "$corpus"/rfc4475/*.dat "$corpus"/rfc4475/rfc5118-ipv6/wire/*.dat \
		"$corpus"/rfc4475/variants/*.dat; do
		[ -f "$f" ] && cp "$f" "$msgs/rfc4475-$((n++))"
	done
	return 0
}

# Concatenated stream messages: a new message starts at a Request-Line or
# Status-Line that follows an empty line (or the start of the file). Good
# enough for seeds (a message/sipfrag body may start one too early).
streams() {
	local f
	for f in "$corpus"/parser-suites/rtckit-streams/*.txt; do
		[ -f "$f" ] || continue
		awk -v dir="$msgs" -v pre="stream-$(basename "$f" .txt)" '
			BEGIN { n = 0; blank = 1; out = "" }
			{
				line = $0; sub(/\r$/, "", line)
				if (blank && (line ~ /^[A-Za-z]+ [^ ]+ SIP\/2\.0$/ || line ~ /^SIP\/2\.0 [0-9][0-9][0-9]/)) {
					if (out != "") close(out)
					out = sprintf("%s/%s-%03d", dir, pre, n++)
				}
				if (out != "") printf "%s\r\n", line > out
				blank = (line == "")
			}' "$f"
	done
}

# "- |+" literal blocks of the call-flow YAML files, indented by two spaces.
callflows() {
	find "$corpus/parser-suites/rtckit-callflows" -name '*.yaml' | sort | while read -r f; do
		awk -v dir="$msgs" -v pre="flow-$(basename "$f" .yaml)" '
			BEGIN { n = 0; out = "" }
			/^- \|\+/ { if (out != "") close(out); out = sprintf("%s/%s-%02d", dir, pre, n++); next }
			/^#/ { next }
			out != "" && /^(  |$)/ { line = $0; sub(/^  /, "", line); printf "%s\r\n", line > out; next }
			{ if (out != "") close(out); out = "" }' "$f"
	done
}

# Every 16th PROTOS case below 8 KiB, placeholders substituted (the
# INVITE template only; Content-Length left at 0 — the parser must cope).
protos() {
	local tgz=$corpus/parser-suites/protos-c07-sip/cases.tar.gz f n
	[ -f "$tgz" ] || return 0
	mkdir -p "$work/protos"
	local members=()
	for ((n = 0; n < 4527; n += 16)); do members+=("$(printf 'cases/%07d' "$n")"); done
	tar xzf "$tgz" -C "$work/protos" "${members[@]}"
	for f in "$work"/protos/cases/*; do
		[ "$(stat -c %s "$f")" -lt 8192 ] || continue
		# "<N> SP <N bytes>" of the INVITE template: drop the length prefix
		# and the teardown that follows (its length prefix starts a line)
		sed -e '1s/^[0-9]* //' -e '/^[0-9][0-9]* <Teardown-Method>/,$d' \
		    -e 's/<To>/sut@192.0.2.1/g; s/<From>/protos@192.0.2.2/g' \
		    -e 's/<From-Address>/192.0.2.2/g; s/<From-IP>/192.0.2.2/g; s/<Local-Port>/5060/g' \
		    -e 's/<Branch-ID>/0000001/g; s/<Call-ID>/protos-1/g; s/<CSeq>/1/g' \
		    -e 's/<Teardown-Method>/CANCEL/g; s/<Content-Length>/0/g' \
		    "$f" > "$msgs/protos-$(basename "$f")"
	done
}

# Copies at most $2 files from the list on stdin to $out, every k-th one so
# that all sources are represented.
take() {
	local limit=$1 list total k i=0 kept=0 f
	list=$(cat)
	total=$(printf '%s\n' "$list" | grep -c . || true)
	[ "$total" -gt 0 ] || return 0
	k=$(( (total + limit - 1) / limit ))
	[ "$k" -ge 1 ] || k=1
	while read -r f; do
		[ -n "$f" ] || continue
		if [ $((i % k)) -eq 0 ] && [ "$kept" -lt "$limit" ]; then
			cp "$f" "$out/$(basename "$f")"
			kept=$((kept + 1))
		fi
		i=$((i + 1))
	done <<<"$list"
}

# Writes each line of stdin (unique, non-empty) as one seed file named
# PREFIX-N, at most MAX of them.
lines_to_seeds() {
	local prefix=$1 n=0 line
	sort -u | while IFS= read -r line && [ $n -lt $MAX ]; do
		[ -n "$line" ] || continue
		printf '%s' "$line" > "$out/$prefix-$n"
		n=$((n + 1))
	done
}

case "$target" in
fuzz_msg)
	rfc4475; streams; callflows; protos
	{ ls "$msgs"/rfc4475-*; } | take 80
	{ ls "$msgs"/stream-* "$msgs"/flow-* 2>/dev/null; } | take 360
	{ ls "$msgs"/protos-* 2>/dev/null; } | take 160
	;;
fuzz_uri)
	rfc4475; streams; callflows
	{
		# Request-URIs
		cat "$msgs"/* | tr -d '\r' | awk '$3 == "SIP/2.0" && NF == 3 { print $2 }'
		# <...> in headers
		cat "$msgs"/* | tr -d '\r' | grep -a -o '<[A-Za-z][A-Za-z0-9+.-]*:[^<> ]*>' | sed 's/^<//; s/>$//'
		# JAIN-SIP sip-url cases
		tr -d '\r' < "$corpus/parser-suites/jain-sip-torture/torture.xml" |
			awk '/<sip-url>/ { u = 1; next } /<\/sip-url>/ { u = 0 } u' |
			sed -n 's/.*<!\[CDATA\[\(.*\)\]\]>.*/\1/p'
	} | lines_to_seeds uri
	;;
fuzz_auth)
	rfc4475; streams; callflows
	{
		cat "$msgs"/* "$corpus/parser-suites/jain-sip-torture/torture.xml" | tr -d '\r' |
			awk '
				function flush() { if (v != "") print v; v = "" }
				/^[ \t]/ { if (v != "") { sub(/^[ \t]+/, " "); v = v $0 }; next }
				{ flush() }
				tolower($0) ~ /^(proxy-)?(authorization|authenticate|www-authenticate|proxy-authenticate)[ \t]*:/ {
					v = $0; sub(/^[^:]*:[ \t]*/, "", v)
				}
				END { flush() }'
		# one Authorization value per digest test vector
		if [ -f "$corpus/digest/vectors.txt" ]; then
			awk -F': ' '
				function flush() {
					if (k["username"] != "")
						printf "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", response=\"%s\", algorithm=%s%s%s%s%s\n",
						       k["username"], k["realm"], k["nonce"], k["uri"], k["response"], k["algorithm"],
						       k["qop"] != "" ? ", qop=" k["qop"] : "", k["nc"] != "" ? ", nc=" k["nc"] : "",
						       k["cnonce"] != "" ? ", cnonce=\"" k["cnonce"] "\"" : "",
						       k["opaque"] != "" ? ", opaque=\"" k["opaque"] "\"" : ""
					delete k
				}
				/^#/ { next }
				/^$/ { flush(); next }
				{ key = $1; val = substr($0, length($1) + 3); k[key] = val }
				END { flush() }' "$corpus/digest/vectors.txt"
		fi
	} | lines_to_seeds auth
	;;
fuzz_prefix)
	printf '%s\n' 192.0.2.7 192.0.2.0/24 10.0.0.0/8 0.0.0.0/0 127.0.0.96/27 2001:db8::/32 \
		'[2001:db8::1]' ::ffff:10.1.2.3 ::/0 fe80::1/128 2001:db8:1:2::/64 | lines_to_seeds prefix
	;;
*)
	# a target this script does not know (e.g. fuzz_verify): REGISTERs
	# with Authorization first, then other REGISTERs
	rfc4475; streams; callflows
	mapfile -t regs < <(grep -l -a '^REGISTER ' "$msgs"/* || true)
	if [ ${#regs[@]} -gt 0 ]; then
		{ grep -l -a -i '^Authorization:' "${regs[@]}" || true; } | take 400
		{ grep -L -a -i '^Authorization:' "${regs[@]}" || true; } | take 200
	fi
	# a target's own hand-made seeds, if it has a folder fuzz/seeds_<name without fuzz_>
	own="$(dirname "$0")/seeds_${target#fuzz_}"
	[ -d "$own" ] && cp "$own"/* "$out"/
	;;
esac
n=$(find "$out" -type f | wc -l)
[ "$n" -le $MAX ] || { echo "seeds.sh: $n seeds for $target (max $MAX)" >&2; exit 1; }
[ "$n" -gt 0 ] || { echo "seeds.sh: no seeds for $target" >&2; exit 1; }
exit 0
