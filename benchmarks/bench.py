#!/usr/bin/env python3
"""The benchmark cases behind benchmarks/run.sh: generates spools and configs, runs hookspool,
curl and wrk against the loopback nginx that run.sh started, prints a table and writes
results.json. Every case is bounded in size and time. See benchmarks/README.md."""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
ALL_CASES = ["throughput", "curl", "wrk", "go", "scale", "fanout", "small_files", "memory", "startup", "https", "sick", "shared"]
CASES = [c for c in os.environ.get("BENCH_CASES", ",".join(ALL_CASES)).split(",") if c]
HANG_TIMEOUT = os.environ.get("BENCH_HANG_TIMEOUT", "2s")


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def builds_running():
    """Whether a Swift build is running on this machine (figures taken then are not trustworthy)."""
    out = subprocess.run(["pgrep", "-c", "-f", "swift-frontend|swift-build|swiftc"], capture_output=True, text=True)
    return out.stdout.strip() not in ("", "0")


# ---------------------------------------------------------------------------- inputs

def event_type(n, types=1):
    """The type of event `n`: one type, or `types` of them in turn (t.0, t.1, …), one per endpoint."""
    return "order.created" if types == 1 else "t.%d" % (n % types)


def event_line(n, size=500, types=1):
    """One complete event (id, type, timestamp, data) padded to about `size` bytes."""
    head = '{"id":"evt_%08d","type":"%s","timestamp":"2026-11-29T05:00:00Z","data":{"order_id":%d,"note":"' % (n, event_type(n, types), n)
    tail = '"}}'
    pad = max(0, size - len(head) - len(tail))
    return head + ("x" * pad) + tail


def write_spool_file(path, first, count, size=500, types=1):
    with open(path, "w") as out:
        for n in range(first, first + count):
            out.write(event_line(n, size, types))
            out.write("\n")


def template(work, name, files, events_per_file, size=500, types=1):
    """A folder of spool files, generated once and copied into each run's spool (a hard-linked file is refused since 0.5.0)."""
    folder = os.path.join(work, "templates", name)
    if os.path.isdir(folder):
        return folder
    os.makedirs(folder)
    n = 1
    for i in range(files):
        write_spool_file(os.path.join(folder, "batch-%06d.ndjson" % i), n, events_per_file, size, types)
        n += events_per_file
    return folder


def config_text(case_dir, endpoints, timeout="10s", concurrency=64, per_endpoint=None, types=1):
    """A config for `endpoints` [(url, ca_file or None)]; with `types` > 1, endpoint i takes type t.i only."""
    lines = [
        "spool: {dir: %s/spool}" % case_dir,
        "report: {dir: %s/reports}" % case_dir,
        "delivery: {concurrency: %d, timeout: %s, retry_for: 0s}" % (concurrency, timeout),
        "endpoints:",
    ]
    for i, (url, tls) in enumerate(endpoints):
        lines += [
            "  - name: e%d" % i,
            "    url: %s" % url,
            '    events: ["%s"]' % ("*" if types == 1 else "t.%d" % i),
            "    secret: %s" % SECRET,
            "    allow_http: true",
            "    allow_private: true",
        ]
        if tls:
            lines.append("    tls: {ca_file: %s}" % tls)
        if per_endpoint:
            lines.append("    concurrency: %d" % per_endpoint)
    return "\n".join(lines) + "\n"


def prepare(work, case, templ, endpoints, timeout="10s", keep_health=False, **shape):
    """A fresh spool for `case` with the template's files; `keep_health` keeps the last run's
    endpoints.json, as a spool that cron runs every minute has it."""
    case_dir = os.path.join(work, "cases", case)
    health = os.path.join(case_dir, "spool", "endpoints.json")
    kept = None
    if keep_health and os.path.exists(health):
        with open(health, "rb") as f:
            kept = f.read()
    shutil.rmtree(case_dir, ignore_errors=True)
    incoming = os.path.join(case_dir, "spool", "incoming")
    os.makedirs(incoming)
    if kept is not None:
        with open(health, "wb") as f:
            f.write(kept)
    if templ:
        for name in sorted(os.listdir(templ)):
            shutil.copyfile(os.path.join(templ, name), os.path.join(incoming, name))
    config = os.path.join(case_dir, "config.yaml")
    with open(config, "w") as f:
        f.write(config_text(case_dir, endpoints, timeout, **shape))
    return case_dir, config


# ---------------------------------------------------------------------------- running

def timed(argv, cwd=None, stdout=subprocess.DEVNULL, timeout=600):
    """Runs argv; returns (seconds, peak RSS in KiB, exit code, stderr's error lines and tail)."""
    quiet_before = not builds_running()
    # stderr goes to a file, not a pipe: a chatty failing run must never block on a full pipe.
    errfile = tempfile.TemporaryFile()
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=stdout, stderr=errfile)
    deadline = start + timeout
    err = b""
    # wait4 gives this child's own rusage (peak RSS), unlike getrusage(RUSAGE_CHILDREN).
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.002)
    seconds = time.perf_counter() - start
    errfile.seek(0)
    text = errfile.read().decode(errors="replace")
    errfile.close()
    errors = [line for line in text.splitlines() if "level=error" in line or "level=critical" in line][:10]
    err = "\n".join(errors + ["..."] if errors else []) + text[-2000:]
    code = os.waitstatus_to_exitcode(status)
    quiet = quiet_before and not builds_running()
    return seconds, usage.ru_maxrss, code, err, quiet


def run_hookspool(bin_path, config, expect_delivered=None, expect_exit=(0,)):
    seconds, rss, code, err, quiet = timed([bin_path, "run", "--config", config, "--log-level", "warning"])
    report_path = os.path.join(os.path.dirname(config), "reports", "latest.json")
    report = {}
    if os.path.exists(report_path):
        with open(report_path) as f:
            report = json.load(f)
    totals = report.get("totals", {})
    ok = code in expect_exit and (expect_delivered is None or totals.get("delivered") == expect_delivered)
    if not ok:
        log("  !! hookspool exit %d, delivered %s (expected %s)\n%s" % (code, totals.get("delivered"), expect_delivered, err))
    return {"seconds": seconds, "rss_kib": rss, "exit": code, "ok": ok, "quiet": quiet, "totals": totals,
            "report_ms": report.get("duration_ms"), "endpoints": report.get("endpoints", [])}


def median_of(runs, key="seconds"):
    return statistics.median(r[key] for r in runs)


def summarize(runs, deliveries):
    secs = median_of(runs)
    return {
        "runs": len(runs),
        "seconds_each": [round(r["seconds"], 3) for r in runs],
        "seconds_median": round(secs, 3),
        "deliveries": deliveries,
        "per_second": round(deliveries / secs) if secs > 0 else None,
        "peak_rss_mib_max": round(max(r["rss_kib"] for r in runs) / 1024, 1),
        "all_ok": all(r["ok"] for r in runs),
        "quiet": all(r["quiet"] for r in runs),
    }


def hookspool_case(args, case, templ, endpoints, deliveries, runs=RUNS, timeout="10s", expect_delivered="all", expect_exit=(0,), **shape):
    results = []
    for i in range(runs):
        _, config = prepare(args.work, case, templ, endpoints, timeout, **shape)
        want = deliveries if expect_delivered == "all" else expect_delivered
        r = run_hookspool(args.bin, config, want, expect_exit)
        log("  %s run %d: %.3f s, %.1f MiB, exit %d" % (case, i + 1, r["seconds"], r["rss_kib"] / 1024, r["exit"]))
        results.append(r)
    return summarize(results, deliveries), results


# ---------------------------------------------------------------------------- cases

def case_throughput(args, out):
    templ = template(args.work, "100k", 1, 100_000)
    url = "http://127.0.0.1:%d/e0" % args.http_ports[0]
    out["throughput"], _ = hookspool_case(args, "throughput", templ, [(url, None)], 100_000)


def curl_config(path, url, count, cacert=None):
    with open(path, "w") as f:
        for n in range(1, count + 1):
            body = event_line(n).replace("\\", "\\\\").replace('"', '\\"')
            f.write('url = "%s"\ndata-binary = "%s"\nheader = "Content-Type: application/json"\noutput = "/dev/null"\n' % (url, body))
            if cacert:
                f.write('cacert = "%s"\n' % cacert)
            if n < count:
                f.write("next\n")


def curl_case(args, name, url, count, cacert=None):
    config = os.path.join(args.work, "curl-%s.cfg" % name)
    curl_config(config, url, count, cacert)
    runs = []
    for i in range(RUNS):
        seconds, rss, code, err, quiet = timed(["curl", "--parallel", "--parallel-max", "64", "--silent", "--show-error",
                                               "--fail", "-K", config])
        ok = code == 0
        if not ok:
            log("  !! curl exit %d: %s" % (code, err))
        log("  curl-%s run %d: %.3f s" % (name, i + 1, seconds))
        runs.append({"seconds": seconds, "rss_kib": rss, "ok": ok, "quiet": quiet})
    return summarize(runs, count)


def case_curl(args, out):
    out["curl"] = curl_case(args, "http", "http://127.0.0.1:%d/e0" % args.http_ports[0], 100_000)


def case_wrk(args, out):
    lua = os.path.join(args.work, "post.lua")
    with open(lua, "w") as f:
        f.write('wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\n' % json.dumps(event_line(1)))
    rates = []
    quiet = True
    for i in range(RUNS):
        quiet = quiet and not builds_running()
        res = subprocess.run(["wrk", "-t1", "-c64", "-d5s", "-s", lua, "http://127.0.0.1:%d/e0" % args.http_ports[0]],
                             capture_output=True, text=True, timeout=60)
        m = re.search(r"Requests/sec:\s+([\d.]+)", res.stdout)
        rate = float(m.group(1)) if m else 0.0
        log("  wrk run %d: %.0f requests/s" % (i + 1, rate))
        rates.append(rate)
        quiet = quiet and not builds_running()
    out["wrk"] = {"runs": RUNS, "per_second_each": rates, "per_second": round(statistics.median(rates)), "quiet": quiet,
                  "all_ok": all(r > 0 for r in rates)}


# ---------------------------------------------------------------------------- the Go peer

class Receiver:
    """The delay receiver (benchmarks/peer/receiver.c) on `count` loopback ports chosen by the kernel."""

    def __init__(self, args, delay, count=1):
        self.proc = subprocess.Popen([args.receiver, "-delay", delay, "-count", str(count)], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        self.ports = [int(p) for p in line.split()]
        if len(self.ports) != count:
            self.proc.kill()
            raise RuntimeError("the receiver did not start: %r" % line)

    def urls(self, host="127.0.0.1"):
        return ["http://%s:%d/e%d" % (host, port, i) for i, port in enumerate(self.ports)]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()


def run_go(args, templ, urls, concurrency, per_endpoint=None, types=1):
    """The Go dispatcher (benchmarks/peer/dispatch.go) over the template's files, routed as hookspool's config routes them."""
    endpoints = os.path.join(args.work, "go-endpoints.txt")
    with open(endpoints, "w") as f:
        for i, url in enumerate(urls):
            f.write("%s %s\n" % ("*" if types == 1 else "t.%d" % i, url))
    files = [os.path.join(templ, name) for name in sorted(os.listdir(templ))]
    argv = [args.go_dispatch, "-endpoints", endpoints, "-secret", SECRET, "-concurrency", str(concurrency),
            "-per-endpoint", str(per_endpoint or 0)] + files
    seconds, rss, code, err, quiet = timed(argv)
    if code != 0:
        log("  !! go exit %d: %s" % (code, err))
    return {"seconds": seconds, "rss_kib": rss, "exit": code, "ok": code == 0, "quiet": quiet}


def side_by_side(args, name, templ, urls, deliveries, concurrency, per_endpoint=None, types=1, ideal=None):
    """hookspool and the Go program over the same events and receivers, alternating which goes first.

    One run of each comes first, unmeasured but for hookspool's time (its cold start, a spool that
    never ran); the measured hookspool runs then find the endpoints' health that run left, as a
    spool run by a timer does."""
    runs = {"hookspool": [], "go": []}
    _, config = prepare(args.work, name, templ, [(url, None) for url in urls], concurrency=concurrency, per_endpoint=per_endpoint, types=types)
    cold = run_hookspool(args.bin, config, deliveries)
    log("  %s hookspool cold: %.3f s (%.0f /s)" % (name, cold["seconds"], deliveries / cold["seconds"]))
    run_go(args, templ, urls, concurrency, per_endpoint, types)
    for i in range(RUNS):
        for who in (("hookspool", "go") if i % 2 == 0 else ("go", "hookspool")):
            if who == "hookspool":
                _, config = prepare(args.work, name, templ, [(url, None) for url in urls], keep_health=True,
                                    concurrency=concurrency, per_endpoint=per_endpoint, types=types)
                r = run_hookspool(args.bin, config, deliveries)
            else:
                r = run_go(args, templ, urls, concurrency, per_endpoint, types)
            log("  %s %s run %d: %.3f s (%.0f /s), %.1f MiB" % (name, who, i + 1, r["seconds"], deliveries / r["seconds"], r["rss_kib"] / 1024))
            runs[who].append(r)
    hs, go = summarize(runs["hookspool"], deliveries), summarize(runs["go"], deliveries)
    result = {"hookspool": hs, "go": go, "concurrency": concurrency, "per_endpoint": per_endpoint, "endpoints": len(urls),
              "ratio": round(hs["per_second"] / go["per_second"], 2),
              "hookspool_cold": {"seconds": round(cold["seconds"], 3), "per_second": round(deliveries / cold["seconds"]), "ok": cold["ok"]}}
    if ideal:
        result["ideal_per_second"] = round(ideal)
        result["hookspool_of_ideal"] = round(hs["per_second"] / ideal, 3)
        result["go_of_ideal"] = round(go["per_second"] / ideal, 3)
    return result


def case_go(args, out):
    """The three shapes of issue 13, each side by side with the Go net/http program."""
    nginx = ["http://127.0.0.1:%d/e0" % args.http_ports[0]]
    out["go_cpu"] = side_by_side(args, "go_cpu", template(args.work, "100k", 1, 100_000), nginx, 100_000, 64)
    with Receiver(args, "50ms") as receiver:
        out["go_latency"] = side_by_side(args, "go_latency", template(args.work, "20k", 1, 20_000), receiver.urls(), 20_000, 512,
                                         ideal=512 / 0.050)
    with Receiver(args, "20ms", 200) as receiver:
        out["go_endpoints"] = side_by_side(args, "go_endpoints", template(args.work, "40k-200types", 1, 40_000, types=200),
                                           receiver.urls(), 40_000, 512, per_endpoint=8, types=200, ideal=min(512, 200 * 8) / 0.020)


def case_scale(args, out):
    """How time and memory grow with the endpoints (1 to 1,000 ports, named `localhost`) and with the
    requests in flight. hookspool's first run of each is cold, the others find the health it left."""
    result = {"endpoints": [], "in_flight": []}
    for count in (1, 10, 100, 1000):
        with Receiver(args, "50ms", count) as receiver:
            templ = template(args.work, "20k-%dtypes" % count, 1, 20_000, types=count)
            urls = receiver.urls("localhost")
            hs, _ = hookspool_case(args, "scale_endpoints_%d" % count, templ, [(url, None) for url in urls], 20_000,
                                   concurrency=512, types=count, keep_health=True)
            go = summarize([run_go(args, templ, urls, 512, types=count) for _ in range(RUNS)], 20_000)
            result["endpoints"].append({"endpoints": count, "hookspool": hs, "go": go, "ideal_per_second": round(512 / 0.050)})
    with Receiver(args, "50ms") as receiver:
        for in_flight in (64, 512, 2048):
            events = in_flight * 20
            templ = template(args.work, "%dk" % events if events % 1000 == 0 else "n%d" % events, 1, events)
            hs, _ = hookspool_case(args, "scale_in_flight_%d" % in_flight, templ, [(url, None) for url in receiver.urls()], events,
                                   concurrency=in_flight, keep_health=True)
            go = summarize([run_go(args, templ, receiver.urls(), in_flight) for _ in range(RUNS)], events)
            result["in_flight"].append({"in_flight": in_flight, "events": events, "hookspool": hs, "go": go,
                                        "ideal_per_second": round(in_flight / 0.050)})
    out["scale"] = result


def case_fanout(args, out):
    templ = template(args.work, "20k", 1, 20_000)
    endpoints = [("http://127.0.0.1:%d/e%d" % (port, i), None) for i, port in enumerate(args.http_ports[:5])]
    out["fanout"], _ = hookspool_case(args, "fanout", templ, endpoints, 100_000)


def case_small_files(args, out):
    templ = template(args.work, "10kx10", 10_000, 10)
    url = "http://127.0.0.1:%d/e0" % args.http_ports[0]
    out["small_files"], _ = hookspool_case(args, "small_files", templ, [(url, None)], 100_000)


def case_memory(args, out):
    url = "http://127.0.0.1:%d/e0" % args.http_ports[0]
    small = template(args.work, "10k", 1, 10_000)
    big = template(args.work, "1m", 1, 1_000_000)
    s, _ = hookspool_case(args, "memory_10k", small, [(url, None)], 10_000, concurrency=512)
    b, runs = hookspool_case(args, "memory_1m", big, [(url, None)], 1_000_000, concurrency=512)
    sizes = [os.path.getsize(os.path.join(args.work, "cases", "memory_1m", "reports", n))
             for n in ("latest.json", "latest.html")]
    out["memory"] = {
        "events_10k": s, "events_1m": b,
        "peak_rss_mib_10k": s["peak_rss_mib_max"], "peak_rss_mib_1m": b["peak_rss_mib_max"],
        "concurrency": 512,
        "bound_mib": 64,
        "within_bound": b["peak_rss_mib_max"] <= 64,
        "report_bytes_json_html_1m": sizes,
    }


def case_startup(args, out):
    case_dir, config = prepare(args.work, "startup", None, [("http://127.0.0.1:%d/e0" % args.http_ports[0], None)])
    export = os.path.join(args.work, "hyperfine.json")
    quiet = not builds_running()
    subprocess.run(["hyperfine", "--warmup", "5", "--runs", "30", "--export-json", export, "--style", "none",
                    "%s run --config %s" % (args.bin, config)], check=True, stdout=subprocess.DEVNULL)
    quiet = quiet and not builds_running()
    with open(export) as f:
        data = json.load(f)["results"][0]
    out["startup"] = {"runs": 30, "ms_median": round(data["median"] * 1000, 1), "ms_mean": round(data["mean"] * 1000, 1),
                      "ms_max": round(data["max"] * 1000, 1), "quiet": quiet, "all_ok": data["median"] < 0.030}


def case_https(args, out):
    templ = template(args.work, "100k", 1, 100_000)
    h1 = "https://127.0.0.1:%d/e0" % args.https_port
    h2 = "https://127.0.0.1:%d/e0" % args.h2_port
    out["https_h1"], _ = hookspool_case(args, "https_h1", templ, [(h1, args.ca)], 100_000)
    out["https_h2"], _ = hookspool_case(args, "https_h2", templ, [(h2, args.ca)], 100_000)
    out["curl_https_h1"] = curl_case(args, "https", h1, 100_000, args.ca)


def case_sick(args, out):
    """Three endpoints, 10,000 events to each: all healthy; one refusing connections; one hanging."""
    templ = template(args.work, "10k", 1, 10_000)
    healthy = ["http://127.0.0.1:%d/e%d" % (args.http_ports[i], i) for i in range(3)]
    # A closed port: bind, note the port, close; nothing listens there.
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    closed = probe.getsockname()[1]
    probe.close()
    # A hanging endpoint: listens, never accepts, never answers (the kernel completes the handshakes).
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(4096)
    hanging = hang.getsockname()[1]
    try:
        base, _ = hookspool_case(args, "sick_healthy", templ, [(u, None) for u in healthy], 30_000, timeout=HANG_TIMEOUT)
        refused, _ = hookspool_case(args, "sick_refused", templ,
                                    [(healthy[0], None), (healthy[1], None), ("http://127.0.0.1:%d/" % closed, None)],
                                    30_000, timeout=HANG_TIMEOUT, expect_delivered=20_000, expect_exit=(1,))
        hung, _ = hookspool_case(args, "sick_hanging", templ,
                                 [(healthy[0], None), (healthy[1], None), ("http://127.0.0.1:%d/" % hanging, None)],
                                 30_000, timeout=HANG_TIMEOUT, expect_delivered=20_000, expect_exit=(1,))
    finally:
        hang.close()
    out["sick"] = {
        "timeout": HANG_TIMEOUT,
        "healthy": base, "refused": refused, "hanging": hung,
        "ratio_refused": round(refused["seconds_median"] / base["seconds_median"], 2),
        "ratio_hanging": round(hung["seconds_median"] / base["seconds_median"], 2),
        "bound": 1.5,
    }


# ---------------------------------------------------------------------------- output

def case_shared(args, out):
    """One spool on a GlusterFS volume, 1, 2 and 4 workers, each a `hookspool run` through its own mount."""
    mounts = os.environ.get("BENCH_GLUSTER_MOUNTS", "").split()
    if len(mounts) < 4:
        log("  skipped: BENCH_GLUSTER_MOUNTS must name 4 mounts of one GlusterFS volume (run.sh makes them as root)")
        return
    url = "http://127.0.0.1:%d/e0" % args.http_ports[0]
    shapes = {"events": template(args.work, "shared-40x500", 40, 500), "files": template(args.work, "shared-400x1", 400, 1)}
    totals = {"events": 20_000, "files": 400}
    result = {"mounts": mounts[:4]}
    for shape, templ in shapes.items():
        for workers in (1, 2, 4):
            times = []
            for _ in range(RUNS):
                site = "bench-%s-%d-%d" % (shape, workers, os.getpid())
                root = os.path.join(mounts[0], site)
                shutil.rmtree(root, ignore_errors=True)
                os.makedirs(os.path.join(root, "spool", "incoming"))
                for name in sorted(os.listdir(templ)):
                    shutil.copyfile(os.path.join(templ, name), os.path.join(root, "spool", "incoming", name))
                with open(os.path.join(root, "config.yaml"), "w") as f:
                    # Relative folders: each worker finds the spool through its own mount.
                    f.write(config_text(".", [(url, None)]))
                quiet = not builds_running()
                start = time.perf_counter()
                procs = [subprocess.Popen([args.bin, "run", "--config", os.path.join(mounts[i], site, "config.yaml"), "--log-level", "error"],
                                          cwd=os.path.join(mounts[i], site), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                         for i in range(workers)]
                codes = [p.wait(timeout=600) for p in procs]
                seconds = time.perf_counter() - start
                done = len(os.listdir(os.path.join(root, "spool", "done")))
                ok = all(c == 0 for c in codes) and done == len(os.listdir(templ))
                if not ok:
                    log("  !! shared %s × %d: exits %s, %d files done of %d" % (shape, workers, codes, done, len(os.listdir(templ))))
                times.append({"seconds": seconds, "ok": ok, "quiet": quiet and not builds_running()})
                log("  shared %s, %d worker(s): %.3f s" % (shape, workers, seconds))
                shutil.rmtree(root, ignore_errors=True)
            secs = statistics.median(t["seconds"] for t in times)
            result["%s_%d" % (shape, workers)] = {
                "workers": workers, "seconds_each": [round(t["seconds"], 3) for t in times], "seconds_median": round(secs, 3),
                "per_second": round(totals[shape] / secs), "ms_per_file": round(1000 * secs / len(os.listdir(templ)), 2),
                "all_ok": all(t["ok"] for t in times), "quiet": all(t["quiet"] for t in times),
            }
    out["shared"] = result


def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}


def table(results):
    rows = []

    def add(name, value, note=""):
        rows.append((name, value, note))

    def q(case):
        return "" if case.get("quiet", True) else " (build running)"

    t, c, w = results.get("throughput"), results.get("curl"), results.get("wrk")
    if t:
        add("throughput, 100k × 500 B, 1 endpoint", "%d events/s" % t["per_second"], "%.2f s, %.0f MiB%s" % (t["seconds_median"], t["peak_rss_mib_max"], q(t)))
    if c:
        add("curl --parallel-max 64, same bodies", "%d requests/s" % c["per_second"], "%.2f s%s" % (c["seconds_median"], q(c)))
    if t and c:
        add("hookspool / curl", "%.2f" % (t["per_second"] / c["per_second"]), "goal ≥ 1.00")
    if w:
        add("wrk -t1 -c64 (ceiling)", "%d requests/s" % w["per_second"], ("hookspool at %.0f%%" % (100 * t["per_second"] / w["per_second"])) if t else "")
    for key, label in (("go_cpu", "nginx, 64 in flight, 100k × 500 B"), ("go_latency", "50 ms receiver, 512 in flight, 20k"),
                       ("go_endpoints", "200 endpoints × 20 ms, cap 8, 512 in flight, 40k")):
        g = results.get(key)
        if g:
            ideal = (", %.0f%% of ideal %d/s" % (100 * g["hookspool_of_ideal"], g["ideal_per_second"])) if "ideal_per_second" in g else ""
            add("hookspool: " + label, "%d /s" % g["hookspool"]["per_second"], "%.0f MiB%s%s" % (g["hookspool"]["peak_rss_mib_max"], ideal, q(g["hookspool"])))
            add("  hookspool, cold (first run of a spool)", "%d /s" % g["hookspool_cold"]["per_second"], "")
            add("  Go net/http: same", "%d /s" % g["go"]["per_second"], "%.0f MiB%s" % (g["go"]["peak_rss_mib_max"], q(g["go"])))
            add("  hookspool / Go", "%.2f" % g["ratio"], "goal ≥ 1.00")
    sc = results.get("scale")
    if sc:
        for row in sc["endpoints"]:
            add("%d endpoint%s (localhost), 50 ms, 512 in flight, 20k" % (row["endpoints"], "" if row["endpoints"] == 1 else "s"),
                "%d /s" % row["hookspool"]["per_second"], "%.0f MiB; Go %d /s, %.0f MiB; ideal %d /s" % (
                    row["hookspool"]["peak_rss_mib_max"], row["go"]["per_second"], row["go"]["peak_rss_mib_max"], row["ideal_per_second"]))
        for row in sc["in_flight"]:
            add("%d in flight, 50 ms, %d events" % (row["in_flight"], row["events"]), "%d /s" % row["hookspool"]["per_second"],
                "%.0f MiB; Go %d /s, %.0f MiB; ideal %d /s" % (
                    row["hookspool"]["peak_rss_mib_max"], row["go"]["per_second"], row["go"]["peak_rss_mib_max"], row["ideal_per_second"]))
    f = results.get("fanout")
    if f:
        add("fan-out, 20k events × 5 endpoints", "%d deliveries/s" % f["per_second"], "%.2f s%s" % (f["seconds_median"], q(f)))
    s = results.get("small_files")
    if s:
        add("10,000 files × 10 events", "%d events/s" % s["per_second"], "%.2f s%s" % (s["seconds_median"], q(s)))
    m = results.get("memory")
    if m:
        add("peak RSS, 10k events, 512 in flight", "%.1f MiB" % m["peak_rss_mib_10k"], "")
        add("peak RSS, 1M events (one file), 512 in flight", "%.1f MiB" % m["peak_rss_mib_1m"],
            "bound %d MiB; %d events/s" % (m["bound_mib"], m["events_1m"]["per_second"]))
    u = results.get("startup")
    if u:
        add("start-up, empty spool", "%.1f ms" % u["ms_median"], "median of %d; goal < 30 ms" % u["runs"])
    for key, label in (("https_h1", "HTTPS (HTTP/1.1), 100k"), ("https_h2", "HTTPS, nginx offering h2, 100k"), ("curl_https_h1", "curl HTTPS (HTTP/1.1), 100k")):
        h = results.get(key)
        if h:
            add(label, "%d %s/s" % (h["per_second"], "requests" if key.startswith("curl") else "events"), "%.2f s%s" % (h["seconds_median"], q(h)))
    k = results.get("sick")
    if k:
        add("3 endpoints × 10k, healthy", "%.2f s" % k["healthy"]["seconds_median"], "timeout %s" % k["timeout"])
        add("  one refusing connections", "%.2f s" % k["refused"]["seconds_median"], "%.2f× (bound 1.5×)" % k["ratio_refused"])
        add("  one hanging", "%.2f s" % k["hanging"]["seconds_median"], "%.2f× (bound 1.5×)" % k["ratio_hanging"])
    g = results.get("shared")
    if g:
        for shape, label, unit in (("events", "shared spool (GlusterFS), 40 files × 500", "events/s"), ("files", "shared spool (GlusterFS), 400 files × 1", "files/s")):
            one = g.get("%s_1" % shape)
            for workers in (1, 2, 4):
                r = g.get("%s_%d" % (shape, workers))
                if r:
                    add("%s, %d worker%s" % (label, workers, "" if workers == 1 else "s"), "%d %s" % (r["per_second"], unit),
                        "%.2f s, %.1f ms/file, %.2f× one worker%s" % (r["seconds_median"], r["ms_per_file"], one["seconds_median"] / r["seconds_median"], q(r)))
    width = max(len(r[0]) for r in rows) if rows else 0
    vwidth = max(len(r[1]) for r in rows) if rows else 0
    lines = ["%s  %s  %s" % (r[0].ljust(width), r[1].rjust(vwidth), r[2]) for r in rows]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--http-ports", required=True)
    parser.add_argument("--https-port", type=int, required=True)
    parser.add_argument("--h2-port", type=int, required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--nginx-pid", type=int)
    parser.add_argument("--go-dispatch", required=True)
    parser.add_argument("--receiver", required=True)
    args = parser.parse_args()
    args.http_ports = [int(p) for p in args.http_ports.split()]

    results = {"machine": machine(), "command": "benchmarks/run.sh", "runs_per_case": RUNS, "cases": CASES}
    version = subprocess.run([args.bin, "--version"], capture_output=True, text=True).stdout.strip()
    results["hookspool_version"] = version
    # Whether the Swift runtime is linked in (as .ci/static-binary builds it) or loaded at start.
    libs = subprocess.run(["ldd", args.bin], capture_output=True, text=True).stdout
    results["binary"] = {"path": args.bin, "swift_runtime": "dynamic" if "libswiftCore" in libs else "static"}
    try:
        results["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                           cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
    except OSError:
        pass
    started = time.time()
    for case in CASES:
        fn = globals().get("case_" + case)
        if not fn:
            log("unknown case %s; known: %s" % (case, ", ".join(ALL_CASES)))
            continue
        log("== %s" % case)
        fn(args, results)
    results["total_seconds"] = round(time.time() - started)
    if "throughput" in results and "curl" in results:
        results["ratio_hookspool_curl"] = round(results["throughput"]["per_second"] / results["curl"]["per_second"], 2)
    if "throughput" in results and "wrk" in results:
        results["ratio_hookspool_wrk"] = round(results["throughput"]["per_second"] / results["wrk"]["per_second"], 2)
    results["table"] = table(results).splitlines()
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    m = results["machine"]
    print("\nhookspool benchmark — %s, %d cores (%s), median of %d runs, Swift runtime %s\n"
          % (m["date"], m["nproc"], m["cpu"], RUNS, results["binary"]["swift_runtime"]))
    print(table(results))
    print("\nwritten: %s" % args.out)


if __name__ == "__main__":
    main()
