#!/bin/sh
# the child sees the parent's environment
printf '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "proc-secret-value-1234"}' "$CREDS_TEST_AKID"
