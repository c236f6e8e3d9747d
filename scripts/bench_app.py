#!/usr/bin/env python3
"""The desktop app's own figures: release binary size, time from launch to the first screen shown, and
idle memory after start. Run by scripts/bench under Xvfb with a throw-away keychain, against a demo
server on loopback. The baseline, measured the same way in the same run, is WebKitGTK alone in a window
of the app's size (scripts/bench_floor_webview.py): what any page costs before the app's own code.
Usage: bench_app.py APP_BINARY SERVER_URL OUT_DIR"""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = 5
IDLE_SECONDS = 5
TARGET_MB, TARGET_IDLE_MB, TARGET_START_MS = 12.0, 150.0, 1000.0


def descendants(pid):
    """pid and every process below it (WebKit runs the page in child processes)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out


def kb(pid, field, source="smaps_rollup"):
    try:
        with open(f"/proc/{pid}/{source}") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def one_run(app, server_url):
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ)
        env.update({
            "XDG_DATA_HOME": f"{home}/data", "XDG_CONFIG_HOME": f"{home}/config", "XDG_CACHE_HOME": f"{home}/cache",
            "JINGTONG_SERVER_URL": server_url, "JINGTONG_KEYRING_SERVICE": f"jingtong-bench-{os.getpid()}-{time.time_ns()}",
            "RUST_LOG": "info", "NO_COLOR": "1",
        })
        log = open(f"{home}/app.log", "w+")
        started = time.monotonic()
        proc = subprocess.Popen(app, env=env, stdout=log, stderr=subprocess.STDOUT)
        shown_ms, own_ms = None, None
        try:
            deadline = started + 30
            while time.monotonic() < deadline and proc.poll() is None:
                log.seek(0)
                line = next((l for l in log.read().splitlines() if "first screen shown" in l), "")
                m = re.search(r"startup_ms=(\d+)", line)
                if m:
                    shown_ms = (time.monotonic() - started) * 1000
                    own_ms = int(m.group(1))
                    break
                time.sleep(0.005)
            if shown_ms is None:
                log.seek(0)
                sys.exit(f"bench_app: the app showed no first screen within 30 s:\n{log.read()[-3000:]}")
            time.sleep(IDLE_SECONDS)
            pids = descendants(proc.pid)
            pss = sum(kb(p, "Pss") for p in pids) / 1024
            own_rss = kb(proc.pid, "VmRSS", "status") / 1024
            return shown_ms, own_ms, pss, own_rss, len(pids)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


FLOOR = [os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_floor_webview.py")]


def main():
    app, server_url, out_dir = sys.argv[1:4]
    size_mb = os.path.getsize(app) / 1e6
    runs, floor = [], []
    for _ in range(RUNS):  # interleaved, so both see the same machine
        runs.append(one_run([app], server_url))
        floor.append(one_run(FLOOR, server_url))
    floor_ms = statistics.median(r[0] for r in floor)
    floor_mb = statistics.median(r[2] for r in floor)
    start_ms = statistics.median(r[0] for r in runs)
    own_ms = statistics.median(r[1] for r in runs)
    pss_mb = statistics.median(r[2] for r in runs)
    rss_mb = statistics.median(r[3] for r in runs)
    procs = runs[0][4]
    verdict = lambda ok: "met" if ok else "NOT met"
    md = "| the app (`app` profile, Xvfb) | value | target | |\n|---|---:|---:|---|\n"
    md += f"| binary size | {size_mb:.1f} MB | ≤ {TARGET_MB:.0f} MB | {verdict(size_mb <= TARGET_MB)} |\n"
    md += (f"| launch → first screen shown (median of {RUNS}) | {start_ms:.0f} ms | ≤ {TARGET_START_MS:.0f} ms | "
           f"{verdict(start_ms <= TARGET_START_MS)} |\n")
    md += (f"| idle memory {IDLE_SECONDS} s after start, PSS of the app and its {procs - 1} WebKit processes | "
           f"{pss_mb:.0f} MB | ≤ {TARGET_IDLE_MB:.0f} MB | {verdict(pss_mb <= TARGET_IDLE_MB)} |\n")
    md += f"| (the app process alone, RSS) | {rss_mb:.0f} MB | | |\n"
    md += (f"| baseline: WebKitGTK alone in the same window, launch / idle PSS | {floor_ms:.0f} ms / {floor_mb:.0f} MB "
           f"| | app = {start_ms / floor_ms:.2f}× / {pss_mb / floor_mb:.2f}× |\n")
    md += (f"\nLaunch is timed from spawning the binary to the shell's log line written when the UI's first "
           f"route has rendered (the shell's own clock says {own_ms:.0f} ms from `main`).\n")
    print(md)
    with open(os.path.join(out_dir, "app.md"), "w") as f:
        f.write(md)
    rows = [
        {"name": "app binary size (MB)", "value": round(size_mb, 2), "target": f"<= {TARGET_MB}"},
        {"name": "app launch to first screen (ms)", "value": round(start_ms), "target": f"<= {TARGET_START_MS:.0f}"},
        {"name": "app idle memory, PSS with WebKit (MB)", "value": round(pss_mb, 1), "target": f"<= {TARGET_IDLE_MB:.0f}"},
        {"name": "baseline: WebKitGTK alone, idle PSS (MB)", "value": round(floor_mb, 1), "target": "-"},
    ]
    with open(os.path.join(out_dir, "app.json"), "w") as f:
        json.dump({"bench": "app", "size_mb": size_mb, "start_ms": start_ms, "shell_start_ms": own_ms,
                   "idle_pss_mb": pss_mb, "idle_rss_app_mb": rss_mb, "floor_start_ms": floor_ms,
                   "floor_idle_pss_mb": floor_mb, "runs": RUNS, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
