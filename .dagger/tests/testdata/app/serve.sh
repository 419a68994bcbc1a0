#!/bin/sh
# The sample app as a web server (busybox httpd on :8080), for the checks
# that run it as a service: /variant says which variant it is, and /health
# answers once it has started. The broken variant never becomes healthy:
# it serves no /health.
set -eu
mkdir -p /tmp/www
cat /app/variant >/tmp/www/variant
if [ "$(cat /app/variant)" != broken ]; then
	echo ok >/tmp/www/health
fi
exec httpd -f -p 8080 -h /tmp/www
