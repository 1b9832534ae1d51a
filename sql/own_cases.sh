#!/usr/bin/env bash
# Counts the SQL cases of Seiche's own that `go test ./sql/...` runs, without ksqlDB's corpus:
#   - datadriven directives (a "----" line each) under sql/parser/testdata and sql/analyzer/testdata;
#   - expression lines of sql/expr/testdata/eval (each line is compiled and checked on its own);
#   - QTT cases under sql/qtt/testdata/cases, one per test and value of its "format" list (TestOwnCases
#     logs the same number).
# Usage: sql/own_cases.sh  (from anywhere in the repository)
set -euo pipefail
cd "$(dirname "$0")"

datadriven() { cat "$@" | grep -c '^----$' || true; }
parser=$(datadriven parser/testdata/*)
analyzer=$(datadriven analyzer/testdata/*)
eval=$(awk '/^eval$/ {on=1; next} /^----$/ {on=0} on && NF {n++} END {print n+0}' expr/testdata/*)
qtt=$(python3 - <<'PY'
import glob, json
n = 0
for f in glob.glob("qtt/testdata/cases/*.json"):
    for t in json.load(open(f))["tests"]:
        n += max(1, len(t.get("format") or []))
print(n)
PY
)
printf 'parser %d, analyzer %d, expression lines %d, QTT %d: %d own cases\n' \
	"$parser" "$analyzer" "$eval" "$qtt" $((parser + analyzer + eval + qtt))
