#!/usr/bin/env bash
# sipwarden analyze on the corpus of third-party traffic (issue 14):
# captures of Kamailio from Debian in six configurations with sipp, sipsak,
# baresip and linphonec (made by tests/tools/corpus_make.sh, committed under
# tests/data/corpus/ with the ground truth truth.tsv). For every row of the
# truth table, the flows of that capture with that AOR and method must all
# have the row's cause: from the capture alone ("cause"), and with the
# accounts' passwords (tests/data/corpus/credentials, "cause_proved"), where
# a verdict about the password must say "proven". Every flow of a capture
# must be covered by a row. Fast: reads the committed files only.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
C="$TESTDATA/corpus"
if [ ! -s "$C/truth.tsv" ]; then not_ok "no truth table in $C"; finish; exit 1; fi
W=$(mktemp -d /tmp/sw_corpus.XXXXXX)
trap 'rm -rf "$W"' EXIT
for cap in $(grep -v '^#' "$C/truth.tsv" | cut -f1 | sort -u); do
	"$SIPWARDEN" analyze --json "$C/$cap" >"$W/$cap.plain.json" 2>"$W/$cap.err"
	"$SIPWARDEN" analyze --json --credentials "$C/credentials" "$C/$cap" >"$W/$cap.proved.json" 2>>"$W/$cap.err"
done
python3 - "$C/truth.tsv" "$W" >"$W/result" <<'PY'
import json, sys
truth, work = sys.argv[1], sys.argv[2]
rows, covered = [], {}
for line in open(truth):
    if line.startswith("#") or not line.strip():
        continue
    f = line.rstrip("\n").split("\t")
    cap, server, client, tp, aor, meth, cause, proved = f[:8]
    findings = f[9] if len(f) > 9 else "-"
    rows.append((cap, server, client, tp, aor, meth, cause, proved, findings))
    covered.setdefault(cap, set()).add((aor, meth))
flows = ok = 0
for cap, server, client, tp, aor, meth, cause, proved, findings in rows:
    for kind, want in (("plain", cause), ("proved", proved)):
        try:
            j = json.load(open("%s/%s.%s.json" % (work, cap, kind)))
        except (OSError, ValueError) as e:
            print("not ok - %s: analyze gave no JSON (%s)" % (cap, e))
            continue
        got = [f for f in j["flows"] if f["aor"] == aor and f["method"] == meth]
        causes = sorted(set(f["verdict"]["cause"] for f in got))
        found = sorted(set(x["cause"] for f in got for x in f.get("findings", [])))
        wantf = [] if findings == "-" else sorted(findings.split("+"))
        what = "%s (%s, %s, %s) %s %s%s" % (cap, server, client, tp, meth, aor,
                                             ", with credentials" if kind == "proved" else "")
        if kind == "plain":
            flows += len(got)
        if not got:
            print("not ok - %s: no flow" % what)
        elif causes != sorted(want.split("+")):
            print("not ok - %s: %s, wanted %s" % (what, " ".join(causes), want))
        elif found != wantf:
            print("not ok - %s: findings %s, wanted %s" % (what, found or "none", wantf or "none"))
        elif any(not {"cause", "severity", "detail", "explanation", "fix"} <= set(x) for f in got
                 for x in f.get("findings", []) + [f["verdict"]]):
            print("not ok - %s: a verdict or finding lacks one of cause, severity, detail, explanation, fix" % what)
        elif kind == "proved" and want in ("wrong-password", "refused-after-valid-digest") and \
                any(f["verdict"]["certainty"] != "proven" for f in got):
            print("not ok - %s: %s but not proven" % (what, want))
        else:
            ok += 1
            print("ok - %s: %s (%d flow%s%s)" % (what, want, len(got), "" if len(got) == 1 else "s",
                                                 "; findings " + findings if wantf else ""))
for cap, keys in sorted(covered.items()):
    j = json.load(open("%s/%s.plain.json" % (work, cap)))
    extra = [(f["aor"], f["method"]) for f in j["flows"] if (f["aor"], f["method"]) not in keys]
    if extra:
        print("not ok - %s: flows without ground truth: %s" % (cap, extra))
    else:
        print("ok - %s: every flow has a ground truth" % cap)
print("# corpus: %d rows, %d flows, %d checks passed of %d" % (len(rows), flows, ok, 2 * len(rows)))
PY
cat "$W/result"
grep -q '^not ok' "$W/result" && _fails=$((_fails + 1))
finish
