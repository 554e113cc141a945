#!/bin/sh
# Prepares Asterisk's configuration directory (a volume shared with the asterisk service):
# the repository's asterisk-config/, then the generated includes (passwords from the
# environment, never from a file in the repository) and a TLS certificate if none is there.
set -eu
etc=/etc/asterisk
cp /app/asterisk-config/*.conf "$etc/"
frontdesk asterisk secrets --etc "$etc"
echo "asterisk configuration ready in $etc"
