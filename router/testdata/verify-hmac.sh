#!/bin/sh
# The Standard Webhooks verification recipe of README.md ("Verifying
# deliveries"), run by router/smn_test.go: keep the two in step.
# Usage: SECRET=... ID=<webhook-id> TS=<webhook-timestamp> SIG=<webhook-signature> verify-hmac.sh BODY_FILE
set -eu
body=$1

case $SECRET in
  whsec_*) key_hex=$(printf %s "${SECRET#whsec_}" | openssl base64 -d -A | od -An -v -tx1 | tr -d ' \n') ;;
  *)       key_hex=$(printf %s "$SECRET" | od -An -v -tx1 | tr -d ' \n') ;;
esac
expected="v1,$({ printf '%s.%s.' "$ID" "$TS"; cat "$body"; } |
  openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key_hex" -binary | openssl base64 -A)"
case " $SIG " in
  *" $expected "*) ;;
  *) echo "bad signature"; exit 1 ;;
esac
now=$(date +%s)
if [ $((now - TS)) -gt 300 ] || [ $((TS - now)) -gt 300 ]; then
  echo "timestamp more than 5 minutes away"; exit 1
fi
echo "signature OK"
