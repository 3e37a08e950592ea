#!/bin/sh
echo "sso session expired, run aws sso login" >&2
echo "second line of stderr" >&2
exit 3
