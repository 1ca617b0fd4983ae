#!/bin/sh
# Hand events to hookspool with `hookspool enqueue`: it checks every line (a bad line enqueues
# nothing: exit 65, each bad line's number and reason), writes a hidden temporary file in
# incoming/, fsyncs it, renames it and fsyncs the folder, so a run never sees a half-written file.
# It prints the new file's path.
# Usage: produce.sh SPOOL < events.ndjson   (or: hookspool enqueue --spool SPOOL FILE…)
# A producer gives the spool, not the config, which names the secrets and is not its to read;
# lines are checked with the default limits. The file is written 0640: in a shared spool
# (incoming/ setgid hookspool) the service reads it through its group, and other producers
# cannot open it.
set -eu
spool=${1:?usage: produce.sh SPOOL < events.ndjson}
exec hookspool enqueue --spool "$spool"
