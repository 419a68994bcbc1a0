#!/bin/sh
# The sample app as a web server (busybox httpd on :8080), for the checks
# that run it as a service: /variant says which variant it is, /health
# answers once it has started, and /api/* is what the HTTP test suite
# (http-test.sh) checks. The broken variant never becomes healthy: it
# serves no /health. The regressed variant starts, but its cart total is
# wrong and it serves no search.
set -eu
variant=$(cat /app/variant)
mkdir -p /tmp/www/api
echo "$variant" >/tmp/www/variant
if [ "$variant" != broken ]; then
	echo ok >/tmp/www/health
fi
for page in login profile checkout; do echo ok >"/tmp/www/api/$page"; done
if [ "$variant" = regressed ]; then
	echo 0 >/tmp/www/api/cart
else
	echo 42 >/tmp/www/api/cart
	echo ok >/tmp/www/api/search
fi
exec httpd -f -p 8080 -h /tmp/www
