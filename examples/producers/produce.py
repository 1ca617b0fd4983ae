#!/usr/bin/env python3
"""Hand events to hookspool: write a temporary name, fsync, then rename (atomic).

Where the hookspool binary is installed, `hookspool enqueue --spool SPOOL_DIR` does this and also
checks every line (see produce.sh); this file shows the same hand-off for a
producer that only has Python.

The file is made 0640: in a shared spool (incoming/ setgid hookspool) the service reads it through
its group, and other producers cannot open it.

Usage: produce.py SPOOL_DIR  (reads one JSON event per line on stdin, or writes a sample)
"""
import json
import os
import sys
import time
import uuid


def spool_events(spool_dir, events):
    incoming = os.path.join(spool_dir, "incoming")
    os.makedirs(incoming, exist_ok=True)
    name = f"events-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{uuid.uuid4().hex[:8]}.ndjson"
    temporary = os.path.join(incoming, f".{name}.tmp")
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o660), "w", encoding="utf-8") as f:
        os.fchmod(f.fileno(), 0o640)
        for event in events:
            f.write(json.dumps(event, separators=(",", ":")) + "\n")
        f.flush()
        os.fsync(f.fileno())
    final = os.path.join(incoming, name)
    os.rename(temporary, final)
    return final


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    if sys.stdin.isatty():
        events = [{"id": f"evt_{uuid.uuid4().hex}", "type": "order.created", "data": {"order_id": 1}}]
    else:
        events = [json.loads(line) for line in sys.stdin if line.strip()]
    print(spool_events(sys.argv[1], events))
