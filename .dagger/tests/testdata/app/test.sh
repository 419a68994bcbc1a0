#!/bin/sh
# Runs one suite of the sample app and writes its JUnit report to
# /out/<suite>.xml; exits 1 when a case fails. The image's variant (build
# arg VARIANT) decides which cases fail:
#
#   base    unit passes; e2e: login passes, checkout fails
#   fixed   every case passes
#   broken  like base, and login fails too
#
# A failing checkout's message ends with a nonce drawn on every real run,
# so a check can tell a cell the engine ran from one it served from cache.
set -eu
suite=$1
variant=$(cat /app/variant)
failures=0
cases=""

# result NAME ok|fail [MESSAGE]
result() {
	if [ "$2" = ok ]; then
		cases="$cases<testcase classname=\"$suite\" name=\"$1\" time=\"0.01\"/>"
	else
		failures=$((failures + 1))
		cases="$cases<testcase classname=\"$suite\" name=\"$1\" time=\"0.01\"><failure message=\"$3\">$3</failure></testcase>"
	fi
}

case $suite in
unit)
	result parses-config ok
	result renders-page ok
	;;
e2e)
	if [ "$variant" = broken ]; then result login fail "login: got 500, want 200"; else result login ok; fi
	nonce=$(cat /proc/sys/kernel/random/uuid)
	if [ "$variant" = fixed ]; then result checkout ok; else result checkout fail "checkout: cart total 0, want 42 (run $nonce)"; fi
	;;
*)
	echo "unknown suite $suite" >&2
	exit 2
	;;
esac

mkdir -p /out
printf '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites><testsuite name="%s" tests="2" failures="%d">%s</testsuite></testsuites>\n' \
	"$suite" "$failures" "$cases" >"/out/$suite.xml"
echo "$suite ($variant): $failures failure(s)"
[ "$failures" -eq 0 ]
