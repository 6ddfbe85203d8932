#!/bin/sh
# The smn verification recipe of README.md ("Verifying deliveries"), run by
# router/smn_test.go: keep the two in step.
# Usage: verify-smn.sh PUBLIC_URL BODY_FILE   (in a scratch directory)
set -eu
url=$1 body=$2

# once: fetch the certificate, check its fingerprint, keep its public key
curl -fsS -o auditbus-signing.pem "$url/v1/signing-cert"
openssl x509 -in auditbus-signing.pem -noout -fingerprint -sha256
openssl x509 -in auditbus-signing.pem -pubkey -noout > auditbus-signing.pub

# per message: rebuild the signed string, decode the signature, verify
# (a Notification signs subject, when not empty; a SubscriptionConfirmation
# signs subscribe_url in its place)
jq -j '"message\n\(.message)\nmessage_id\n\(.message_id)\n"
  + (if .type != "Notification" then "subscribe_url\n\(.subscribe_url)\n"
     elif (.subject // "") != "" then "subject\n\(.subject)\n" else "" end)
  + "timestamp\n\(.timestamp)\ntopic_urn\n\(.topic_urn)\ntype\n\(.type)\n"' "$body" > string-to-sign
jq -r .signature "$body" | openssl base64 -d -A > signature.bin
openssl dgst -sha256 -verify auditbus-signing.pub -signature signature.bin string-to-sign
