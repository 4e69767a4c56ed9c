#!/usr/bin/env bash
# sipwarden bench --html FILE: one run (REGISTER with digest, 600 at 300/s,
# one user in ten with a wrong password) writes the JSON report on stdout and
# the page to FILE. The page must be self-contained (no src/href, no URL, no
# CSS import), embed the same JSON report, show its percentiles, and its two
# charts must add up to it: the latency bars to the completed count, the
# completed and failed bars over time to the completed and failed counts.
. "$(dirname "${BASH_SOURCE[0]}")/serve_lib.sh"

SW_PORT=$(free_port 45000 45499)
# no bans: the wrong passwords are answered (403), not dropped as a cracker's
printf '[ban]\nenabled = no\n' >"$T/noban.conf"
sw_start html --config "$T/noban.conf" || exit 1
python3 -c 'for i in range(200): print("h%03d@127.0.0.1,pw-%d" % (i, i))' >"$T/server.csv"
"$SIPWARDEN" user import "$T/server.csv" --db "$SW_DB" >/dev/null
# the bench's users: every tenth with a wrong password
python3 -c 'for i in range(200): print("h%03d@127.0.0.1,%s" % (i, "wrong" if i % 10 == 0 else "pw-%d" % i))' >"$T/bench.csv"
sleep 1.2 # the server sees new users within a second

"$SIPWARDEN" bench --target "127.0.0.1:$SW_PORT" --users-file "$T/bench.csv" --count 600 --rate 300 \
	--json --html "$T/report.html" >"$T/report.json" 2>"$T/bench.err"; rc=$?
expect_match "bench --json --html: exit 1 (the wrong passwords fail)" "$rc" '^1$'
[ -s "$T/report.html" ] && ok "the page is written ($(wc -c <"$T/report.html") bytes)" || { not_ok "no page"; sw_stop; finish; exit; }

python3 - "$T/report.html" "$T/report.json" >"$T/check.out" 2>&1 <<'PY'
import json, re, sys
from html.parser import HTMLParser
page = open(sys.argv[1]).read()
rep = json.load(open(sys.argv[2]))
def check(desc, cond, detail=""):
    print(("ok - " if cond else "not ok - ") + desc + ("" if cond else " (%s)" % detail))

class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.cells, self.data_json = [], [], {}, None
        self.in_json = False; self.key = None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag); self.attrs.append((tag, a))
        self.in_json = tag == "script" and a.get("type") == "application/json"
        self.key = a.get("data-key") if tag == "td" else None
    def handle_data(self, d):
        if self.in_json:
            self.data_json = (self.data_json or "") + d
        elif self.key:
            self.cells[self.key] = d.split()[0]; self.key = None
    def handle_endtag(self, tag):
        self.in_json = False
p = P(); p.feed(page)

check("an HTML document", page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>"))
ext = [(t, k) for t, a in p.attrs for k in a if k in ("src", "href", "xlink:href", "srcset", "action")]
check("self-contained: no src/href attribute", not ext, ext[:3])
check("self-contained: no URL, no CSS import or url()",
      not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/|@import|url\(", page, re.I))
check("no executable script (only the JSON data block)",
      all(a.get("type") == "application/json" for t, a in p.attrs if t == "script"))
emb = json.loads(p.data_json or "null")
check("the embedded JSON report is the one on stdout", emb == rep)
lat = rep["latency_ms"]
for k, jk in (("p50", "p50"), ("p90", "p90"), ("p99", "p99"), ("p99.9", "p999"), ("max", "max")):
    check("table total.%s = JSON latency_ms.%s (%.3f)" % (k, jk, lat[jk]),
          p.cells.get("total." + k) == "%.3f" % lat[jk], p.cells.get("total." + k))
check("table completed/failed = JSON", p.cells.get("completed") == str(rep["completed"]) and
      p.cells.get("failed") == str(rep["failed"]), (p.cells.get("completed"), p.cells.get("failed")))

svgs = [a.get("id") for t, a in p.attrs if t == "svg"]
check("two inline SVG charts: latency and rate", svgs == ["latency", "rate"], svgs)
bars = [a for t, a in p.attrs if t == "rect" and a.get("class") == "bar"]
nb = sum(int(a["data-n"]) for a in bars)
check("latency chart: %d bars adding up to latency_ms.n = completed (%d)" % (len(bars), nb),
      len(bars) >= 2 and nb == lat["n"] == rep["completed"], (len(bars), nb, lat["n"]))
edges = [(float(a["data-lo-ms"]), float(a["data-hi-ms"])) for a in bars]
check("latency bins are ordered and adjacent, spanning min..max",
      all(lo < hi for lo, hi in edges) and all(abs(edges[i][1] - edges[i + 1][0]) < 1e-3 * edges[i][1]
                                              for i in range(len(edges) - 1))
      and edges[0][0] <= lat["p50"] <= edges[-1][1] and edges[-1][1] >= lat["max"] * 0.98, edges[:2])
marks = {a["data-p"]: float(a["data-ms"]) for t, a in p.attrs if t == "line" and "data-p" in a}
check("latency chart marks p50 and p99 at the JSON values",
      marks.get("p50") == lat["p50"] and marks.get("p99") == lat["p99"], marks)
done = [a for t, a in p.attrs if t == "rect" and a.get("class") == "done"]
failed = [a for t, a in p.attrs if t == "rect" and a.get("class") == "failed"]
nd, nf = sum(int(a["data-n"]) for a in done), sum(int(a["data-n"]) for a in failed)
check("rate chart: completed bars add up to completed (%d)" % nd, nd == rep["completed"], (nd, rep["completed"]))
check("rate chart: failed bars add up to failed (%d)" % nf, nf == rep["failed"] and nf > 0, (nf, rep["failed"]))
ts = [float(a["data-t"]) for a in done]
check("rate chart: %d slots in time order within the run (%.1f s)" % (len(ts), rep["elapsed_s"]),
      len(ts) >= 10 and ts == sorted(ts) and ts[-1] <= rep["elapsed_s"] + 0.5, ts[-3:])
PY
cat "$T/check.out"
_fails=$((_fails + $(grep -c '^not ok' "$T/check.out")))
expect_match "the JSON counts the wrong passwords (540 completed, 60 failed with a status, none unfinished)" \
	"$(json_q '(j["completed"], j["failed"], sum(j["failures_by_status"].values()), j["unfinished"])' <"$T/report.json")" \
	'^\(540, 60, 60, 0\)$'

expect_exit 3 "--html into a missing directory: exit 3" -- "$SIPWARDEN" bench --target "127.0.0.1:$SW_PORT" \
	--users-file "$T/bench.csv" --count 1 --html "$T/no/such/dir/r.html"
expect_match "... saying why" "$ERR" 'cannot write .*no/such/dir/r.html'
sw_stop
finish
