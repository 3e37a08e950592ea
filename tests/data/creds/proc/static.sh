#!/bin/sh
printf '{"Version": 1, "AccessKeyId": "AKIAPROCSTATIC", "SecretAccessKey": "proc-secret-value-1234"}'
