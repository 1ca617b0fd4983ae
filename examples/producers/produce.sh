#!/bin/sh
# Hand events to hookspool: write a temporary name, then rename. The rename is atomic,
# so a run never sees a half-written file. Usage: produce.sh SPOOL_DIR < events.ndjson
# The file is written 0640: in a shared spool (incoming/ setgid hookspool) the service reads it
# through its group, and other producers cannot open it.
set -eu
umask 027
spool=${1:?usage: produce.sh SPOOL_DIR < events.ndjson}
mkdir -p "$spool/incoming"
name="events-$(date -u +%Y%m%dT%H%M%SZ)-$$.ndjson"
cat > "$spool/incoming/.$name.tmp"
mv "$spool/incoming/.$name.tmp" "$spool/incoming/$name"
echo "$spool/incoming/$name"
