#!/bin/sh
# Hand events to hookspool: write a temporary name, then rename. The rename is atomic,
# so a run never sees a half-written file. Usage: produce.sh SPOOL_DIR < events.ndjson
set -eu
spool=${1:?usage: produce.sh SPOOL_DIR < events.ndjson}
mkdir -p "$spool/incoming"
name="events-$(date -u +%Y%m%dT%H%M%SZ)-$$.ndjson"
cat > "$spool/incoming/.$name.tmp"
mv "$spool/incoming/.$name.tmp" "$spool/incoming/$name"
echo "$spool/incoming/$name"
