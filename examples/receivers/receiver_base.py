"""The plumbing the example receivers share: arguments, a threaded HTTP server on 127.0.0.1,
an idempotent and durable --out file, counts on SIGTERM/SIGINT.

The signature checks are not here: each receiver passes a `verify(body, headers)` function,
which returns the names of the verifiers that accepted the delivery or raises `Rejected`.
Standard library only.
"""
import argparse
import http.server
import json
import os
import signal
import sys
import threading


class Rejected(Exception):
    """A delivery that does not verify (signature, header or timestamp): answered 401."""


def read_secret(value):
    """`--secret` accepts the secret itself, `env:NAME` or `file:PATH` (one trailing newline ignored)."""
    if value.startswith("env:"):
        name = value[4:]
        secret = os.environ.get(name, "")
        if not secret:
            raise SystemExit(f"--secret env:{name}: the variable is unset or empty")
        return secret
    if value.startswith("file:"):
        path = value[5:]
        try:
            with open(path, encoding="utf-8") as f:
                secret = f.read()
        except OSError as error:
            raise SystemExit(f"--secret file:{path}: {error}")
        secret = secret[:-1] if secret.endswith("\n") else secret
        if not secret:
            raise SystemExit(f"--secret file:{path}: the file is empty")
        return secret
    if not value:
        raise SystemExit("--secret: empty")
    return value


def argument_parser(description):
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (default 0)")
    parser.add_argument(
        "--secret", action="append", required=True, metavar="SECRET",
        help="the endpoint's secret; repeat it while rotating (any one verifying is enough); env:NAME or file:PATH read it from there",
    )
    parser.add_argument("--out", metavar="FILE", help="append each verified event to FILE as one JSON line")
    parser.add_argument("--quiet", action="store_true", help="no line per request on stderr")
    return parser


class Store:
    """Counts, the ids already accepted, and the --out file; one lock keeps them consistent."""

    def __init__(self, out_path):
        self.lock = threading.Lock()
        self.counts = {"received": 0, "verified": 0, "duplicates": 0, "rejected": 0, "invalid": 0}
        self.seen = set()
        self.out = None
        if out_path:
            # Ids already in the file count as seen, so a restart does not store an event twice.
            if os.path.exists(out_path):
                with open(out_path, encoding="utf-8") as f:
                    for line in f:
                        try:
                            self.seen.add(json.loads(line)["id"])
                        except (ValueError, KeyError, TypeError):
                            pass
            self.out = open(out_path, "a", encoding="utf-8")

    def count(self, key, n=1):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + n

    def accept(self, event_id, event, verified_by):
        """Stores a verified event once; returns False if its id was seen before.
        The line is on disk (fsync) before this returns, so a 2xx is never given for a lost event."""
        with self.lock:
            for name in verified_by:
                self.counts[name] = self.counts.get(name, 0) + 1
            if event_id in self.seen:
                self.counts["duplicates"] += 1
                return False
            if self.out is not None:
                self.out.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")
                self.out.flush()
                os.fsync(self.out.fileno())
            self.seen.add(event_id)
            self.counts["verified"] += 1
            return True

    def summary(self):
        with self.lock:
            return "counts: " + " ".join(f"{key}={value}" for key, value in self.counts.items())


def make_handler(verify, store, quiet):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as hookspool's connection pool expects
        server_version = "hookspool-example-receiver"

        def do_POST(self):
            store.count("received")
            try:
                body = self._read_body()
            except ValueError as error:
                return self._reply(400, f"bad request: {error}")
            try:
                verified_by = verify(body, self.headers)
            except Rejected as error:
                store.count("rejected")
                return self._reply(401, f"signature rejected: {error}")
            try:
                event = json.loads(body.decode("utf-8"))
            except ValueError as error:
                event = None
            if not isinstance(event, dict) or not isinstance(event.get("id"), str):
                store.count("invalid")
                return self._reply(400, "the body is not a JSON object with a string id")
            # Every scheme but stripe also names the id in a header; it must be the body's.
            header_id = self.headers.get("webhook-id") or self.headers.get("X-Webhook-Id")
            if header_id is not None and header_id != event["id"]:
                store.count("invalid")
                return self._reply(400, f"the id header ({header_id}) is not the body's id ({event['id']})")
            if store.accept(event["id"], event, verified_by):
                self._reply(200, "ok", event["id"], verified_by)
            else:
                self._reply(200, "duplicate, already stored", event["id"], verified_by)

        def do_GET(self):
            self._reply(405, "POST webhooks here", allow="POST")

        def _read_body(self):
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            length = self.headers.get("Content-Length")
            if length is None:
                raise ValueError("no Content-Length")
            return self.rfile.read(int(length))

        def _reply(self, status, text, event_id=None, verified_by=(), allow=None):
            payload = (text + "\n").encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            if allow:
                self.send_header("Allow", allow)
            self.end_headers()
            self.wfile.write(payload)
            if not quiet:
                detail = f" {event_id} by {', '.join(verified_by)}" if event_id else ""
                sys.stderr.write(f"{self.command} {self.path} {status} {text}{detail}\n")
                sys.stderr.flush()

        def log_message(self, format, *args):
            pass  # _reply logs one line per request

    return Handler


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # idle keep-alive connections must not hold up the exit
    request_queue_size = 128  # a sender opens many connections at once; the default backlog is 5


def serve(args, verify):
    """Listens, prints `listening on HOST:PORT` as the first stdout line, serves until
    SIGTERM/SIGINT, then prints the counts and exits 0."""
    store = Store(args.out)
    server = Server((args.host, args.port), make_handler(verify, store, args.quiet))
    host, port = server.server_address[:2]
    print(f"listening on {host}:{port}", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    # A parent may hand down a mask that blocks them (a child started from a Swift Dispatch
    # worker thread inherits one blocking nearly every signal); the handlers need them delivered.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    threading.Thread(target=server.serve_forever, daemon=True).start()
    while not stop.wait(1):
        pass
    server.shutdown()
    server.server_close()
    print(store.summary(), flush=True)
