#!/bin/sh
# The sample app's own command (its CMD), for the smoke check: a server
# that starts and stays up, healthy once /tmp/ready exists. The broken
# variant fails at start instead, like an image whose runtime was bumped
# under it.
set -eu
if [ "$(cat /app/variant)" = broken ]; then
	echo "start: error while loading shared libraries: libssl.so.3: cannot open shared object file" >&2
	exit 127
fi
touch /tmp/ready
exec sleep 3600
