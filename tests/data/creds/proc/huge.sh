#!/bin/sh
# more than the 64 KiB output cap
i=0
while [ $i -lt 2000 ]; do
  echo "0123456789012345678901234567890123456789012345678901234567890123456789"
  i=$((i + 1))
done
