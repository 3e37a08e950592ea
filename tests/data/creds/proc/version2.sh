#!/bin/sh
printf '{"Version": 2, "AccessKeyId": "A", "SecretAccessKey": "proc-secret-value-1234"}'
