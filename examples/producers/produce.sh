#!/bin/sh
# Hand events to hookspool with `hookspool enqueue`: it checks every line as a run would (a bad
# line enqueues nothing: exit 65, each bad line's number and reason), writes a hidden temporary
# file in incoming/, fsyncs it, renames it and fsyncs the folder, so a run never sees a
# half-written file. It prints the new file's path.
# Usage: produce.sh CONFIG < events.ndjson   (or: hookspool enqueue --config CONFIG FILE…)
# The file is written 0640: in a shared spool (incoming/ setgid hookspool) the service reads it
# through its group, and other producers cannot open it.
set -eu
config=${1:?usage: produce.sh CONFIG < events.ndjson}
exec hookspool enqueue --config "$config"
