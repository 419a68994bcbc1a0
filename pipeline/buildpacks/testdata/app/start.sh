#!/bin/sh
# The sample app: print the greeting its buildpack baked in, then serve.
cat "$GREETING_FILE"
exec sleep 3600
