#!/bin/sh
printf '{"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "proc-secret-value-1234" garbage'
