#!/bin/sh
# The sample app's HTTP test suite, run from another container against the
# app as a service: shard $SHARD of 3 of its cases GETs a page of $APP_URL
# (default http://app:8080) and compares it with what it wants. Writes the
# JUnit report to /out/http.xml; exits 1 when a case fails.
set -u
shard=${SHARD:?SHARD is 1, 2 or 3}
url=${APP_URL:-http://app:8080}
i=0
failures=0
cases=""

# check NAME PATH WANT: case NAME, in shard (its position mod 3) + 1
check() {
	i=$((i + 1))
	[ $(((i - 1) % 3 + 1)) -eq "$shard" ] || return 0
	got=$(wget -qO- "$url$2" 2>/dev/null) || got="no answer"
	if [ "$got" = "$3" ]; then
		cases="$cases<testcase classname=\"http\" name=\"$1\" time=\"0.01\"/>"
	else
		failures=$((failures + 1))
		cases="$cases<testcase classname=\"http\" name=\"$1\" time=\"0.01\"><failure message=\"GET $2: got $got, want $3\"/></testcase>"
	fi
	echo "$1: GET $2: $got"
}

check health /health ok
check login /api/login ok
check cart-total /api/cart 42
check search /api/search ok
check profile /api/profile ok
check checkout /api/checkout ok

mkdir -p /out
printf '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites><testsuite name="http-%s" tests="2" failures="%d">%s</testsuite></testsuites>\n' \
	"$shard" "$failures" "$cases" >/out/http.xml
[ "$failures" -eq 0 ]
