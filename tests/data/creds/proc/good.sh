#!/bin/sh
# prints Version 1 credentials; $1 = expiration
cat <<JSON
{"Version": 1, "AccessKeyId": "ASIAPROCESS", "SecretAccessKey": "proc-secret-value-1234",
 "SessionToken": "proc-session-token-5678", "Expiration": "$1"}
JSON
