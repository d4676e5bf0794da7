#!/usr/bin/env python3
"""App figures (issues 5 and 8): cold start to first chart, memory, and History on a big vault.

Drives the real hearth-desktop window through tauri-driver + WebKitWebDriver under a display
(CI uses Xvfb), the same way tests/e2e/run_e2e.py does, and prints a Markdown section.

Usage:
    xvfb-run -a -s "-screen 0 1280x800x24" python3 tests/perf/app_figures.py APP \
        [--cold-runs 5] [--demo-wait 60] [--vault PATH --passphrase P] [--rounds 5] \
        [--telegrams 30] [--only cold,latency,memory,background,vault]

APP should be a release binary built with the bundler's feature set (`tauri build`), e.g.
$CARGO_TARGET_DIR/release/hearth-desktop.

- cold: process spawn -> the Now chart's <svg> in the DOM, on `--demo`, median of N runs.
  The clock starts just before the WebDriver new-session request that launches the app and
  stops when a poll (every ~10 ms) finds the SVG; the kernel's start time of the app process
  is reported too, so the driver's own share is visible.
- memory: RSS and PSS summed over the app process and all its descendants (the WebKit web
  and network processes) after --demo-wait seconds on `--demo` with the Now screen shown.
  RSS counts shared libraries once per process; PSS splits them, so the PSS sum is what the
  app really costs; USS (private pages only) is what the machine gets back when it quits.
- latency: the first-run wizard with a LAN bridge on loopback (this script is the meter), then
  --telegrams DSMR 5 telegrams, one a second: the time from each one's last byte sent to the Now
  screen's power changing (a MutationObserver in the page) and to the next frame.
- background: memory while collecting in the tray, started with `--minimized` (no window) and
  after the window was closed (a WM_DELETE_WINDOW, as a window manager's close button sends).
- vault: the app opened on a copy of an existing vault (--vault; the copy goes to a temp
  data directory, so the original is never written), unlocked through the lock screen with
  --passphrase, then History switched between day, week, month and year --rounds times.
  Each switch is timed inside the page: click -> the History DTO rendered (the app's own
  data-ms covers invoke + render) and -> the next frame after that. Memory is summed as above
  after the year view.

Python stdlib only. Progress goes to stderr; the Markdown to stdout.
"""
import argparse
import datetime
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

# The end-to-end suite's WebDriver client, and its way of closing the window as a window
# manager does.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from run_e2e import Driver, close_window, stop, wait_for, wait_port  # noqa: E402
from run_e2e import Session as E2ESession  # noqa: E402

PORT, NATIVE_PORT = 4444, 4445
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(f"app_figures: {msg}", file=sys.stderr, flush=True)


class Session(E2ESession):
    """The end-to-end suite's session, waiting longer by default and polling more often (the
    figures are timings), with asynchronous scripts."""

    def js_async(self, script, *args):
        return self.d.call("POST", self._p("/execute/async"), {"script": script, "args": list(args)})

    def wait(self, what, fn, timeout=60.0, every=0.05):
        return wait_for(what, fn, timeout, every)


# ---- processes -------------------------------------------------------------------------------

def stat_fields(pid):
    """(ppid, starttime in clock ticks) from /proc/PID/stat, or None when the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    rest = s[s.rindex(")") + 2:].split()
    return int(rest[1]), int(rest[19])


def app_pids(app):
    """Live processes whose executable is `app`, newest first."""
    real = os.path.realpath(app)
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            if os.path.realpath(f"/proc/{d}/exe") == real:
                st = stat_fields(int(d))
                if st:
                    found.append((st[1], int(d)))
        except OSError:
            continue
    return [p for _, p in sorted(found, reverse=True)]


def descendants(root):
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = stat_fields(int(d))
            if st:
                children.setdefault(st[0], []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "?"


def kib(path, field):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_memory(app):
    """{'rss', 'pss', 'uss': KiB, 'procs': [(name, rss, pss, uss)]} for the newest app process and
    its descendants. USS (private clean + private dirty) is what quitting the app gives back."""
    pids = app_pids(app)
    if not pids:
        raise RuntimeError("the app process was not found")
    return memory_of(pids[0])


def memory_of(pid):
    """tree_memory for the process `pid` and its descendants."""
    procs = []
    for p in descendants(pid):
        rss = kib(f"/proc/{p}/status", "VmRSS:")
        pss = kib(f"/proc/{p}/smaps_rollup", "Pss:")
        uss = (kib(f"/proc/{p}/smaps_rollup", "Private_Clean:")
               + kib(f"/proc/{p}/smaps_rollup", "Private_Dirty:"))
        procs.append((comm(p), rss, pss, uss))
    return {"rss": sum(q[1] for q in procs), "pss": sum(q[2] for q in procs),
            "uss": sum(q[3] for q in procs), "procs": procs}


MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"


def render_node():
    """The device Hearth names in WEBKIT_WEB_RENDER_DEVICE_FILE (webview.rs): the first DRM render
    node, or /dev/null when there is none."""
    try:
        nodes = sorted(int(n[7:]) for n in os.listdir("/dev/dri") if n.startswith("renderD") and n[7:].isdigit())
    except OSError:
        nodes = []
    return f"/dev/dri/renderD{nodes[0]}" if nodes else "/dev/null"


def webkit_baseline(wait):
    """WebKitGTK's own MiniBrowser showing about:blank, with the web-view environment Hearth sets
    for itself (src-tauri/src/webview.rs): the memory any WebKitGTK window starts from here."""
    if not os.access(MINIBROWSER, os.X_OK):
        return None
    env = dict(os.environ, WEBKIT_DISABLE_COMPOSITING_MODE="1", WEBKIT_DISABLE_DMABUF_RENDERER="1",
               GDK_GL="disable", WEBKIT_WEB_RENDER_DEVICE_FILE=render_node(), MESA_SHADER_CACHE_DISABLE="true")
    p = subprocess.Popen([MINIBROWSER, "about:blank"], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(wait)
        return memory_of(p.pid)
    finally:
        stop(p)


def mib(k):
    return f"{k / 1024:.0f} MiB"


def mem_table_rows(m):
    rows = [f"| all {len(m['procs'])} processes | {mib(m['rss'])} | **{mib(m['pss'])}** "
            f"({m['pss'] * 1024 / 1e6:.0f} MB) | {mib(m['uss'])} |"]
    by_name = {}
    for name, rss, pss, uss in m["procs"]:
        r, p, u, n = by_name.get(name, (0, 0, 0, 0))
        by_name[name] = (r + rss, p + pss, u + uss, n + 1)
    for name, (r, p, u, n) in sorted(by_name.items(), key=lambda kv: -kv[1][0]):
        rows.append(f"| {name}{f' (×{n})' if n > 1 else ''} | {mib(r)} | {mib(p)} | {mib(u)} |")
    return rows


# ---- runs ------------------------------------------------------------------------------------

def wrapper(app, test_dir):
    """A launcher giving one app instance its own XDG dirs and temp dir."""
    path = os.path.join(test_dir, "app.sh")
    env = "".join(f'export {k}="{os.path.join(test_dir, v)}"\n' for k, v in
                  (("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config"), ("XDG_CACHE_HOME", "cache")))
    with open(path, "w") as f:
        f.write(f"#!/bin/sh\n{env}export MESA_SHADER_CACHE_DISABLE=true\nexport TMPDIR=\"{test_dir}\"\nexec \"{app}\" \"$@\"\n")
    os.chmod(path, 0o755)
    return path


CHART = "#live-chart svg"


def uptime():
    with open("/proc/uptime") as f:
        return float(f.read().split()[0])


def cold_start(d, app, root, runs):
    results = []
    for i in range(runs):
        test_dir = os.path.join(root, f"cold-{i}")
        os.makedirs(test_dir)
        launcher = wrapper(app, test_dir)
        t0 = time.time()
        s = Session(d, launcher, ["--demo"])
        t_session = time.time()
        try:
            s.wait("the Now chart", lambda: s.js(f"return !!document.querySelector({json.dumps(CHART)});"),
                   timeout=60, every=0.01)
            t_chart = time.time()
            up = uptime()
            pids = app_pids(app)
            st = stat_fields(pids[0]) if pids else None
            # The process start and /proc/uptime share the kernel's boot clock.
            results.append({"chart": t_chart - t0, "session": t_session - t0,
                            "spawn_to_chart": (up - st[1] / CLK_TCK) if st else None})
            log(f"cold start {i + 1}/{runs}: chart after {t_chart - t0:.3f} s "
                f"(session {t_session - t0:.3f} s)")
        finally:
            s.close()
        time.sleep(1.0)
    return results


def demo_memory(d, app, root, wait_s):
    test_dir = os.path.join(root, "memory")
    os.makedirs(test_dir)
    s = Session(d, wrapper(app, test_dir), ["--demo"])
    try:
        s.wait("the Now chart", lambda: s.js(f"return !!document.querySelector({json.dumps(CHART)});"))
        log(f"memory: waiting {wait_s} s on --demo")
        time.sleep(wait_s)
        m = tree_memory(app)
        s.screenshot(os.path.join(test_dir, "after.png"))
        return m
    finally:
        s.close()


def background_memory(d, app, root, wait_s):
    """Memory while Hearth collects in the tray: started minimised at login (no window is ever
    opened), and after the user closes the window (WebKit keeps its network process for the next
    window; the web content process ends)."""
    test_dir = os.path.join(root, "tray")
    os.makedirs(test_dir)
    p = subprocess.Popen([wrapper(app, test_dir), "--demo", "--minimized"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        log(f"background: waiting {wait_s} s on --demo --minimized")
        time.sleep(wait_s)
        minimized = memory_of(p.pid)
    finally:
        stop(p)
    test_dir = os.path.join(root, "closed")
    os.makedirs(test_dir)
    s = Session(d, wrapper(app, test_dir), ["--demo"])
    try:
        s.wait("the Now chart", lambda: s.js(f"return !!document.querySelector({json.dumps(CHART)});"))
        close_window("Hearth")
        log(f"background: window closed, waiting {wait_s} s")
        time.sleep(wait_s)
        closed = tree_memory(app)
    finally:
        s.close()
    return minimized, closed


# ---- latency: a telegram on a LAN bridge -> the Now screen -----------------------------------

V5 = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "crates", "meter", "tests",
                  "fixtures", "dsmr", "v5.p1")


def crc16_arc(data):
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def telegram(template, unix, k):
    """The DSMR 5 capture `template` (v5.p1) re-stamped at `unix` (Europe/Amsterdam, with the
    S/W flag), its power 244 + k W and its T1 register k Wh further, with a fresh CRC."""
    from zoneinfo import ZoneInfo
    local = datetime.datetime.fromtimestamp(unix, ZoneInfo("Europe/Amsterdam"))
    stamp = local.strftime("%y%m%d%H%M%S") + ("S" if local.dst() else "W")
    body = template.split("!")[0]
    body = body.replace("0-0:1.0.0(170102192002W)", f"0-0:1.0.0({stamp})")
    body = body.replace("1-0:1.7.0(00.244*kW)", f"1-0:1.7.0({(244 + k) / 1000:06.3f}*kW)")
    body = body.replace("1-0:1.8.1(000004.426*kWh)", f"1-0:1.8.1({(4426 + k) / 1000:010.3f}*kWh)")
    data = (body + "!").encode()
    return data + f"{crc16_arc(data):04X}\r\n".encode()


OBSERVE = """
const el = document.getElementById('live-power');
window.__seen = [];
new MutationObserver(() => {
  const t = performance.timeOrigin + performance.now();
  const unix = Number(el.dataset.unix);
  requestAnimationFrame(() => window.__seen.push([unix, t, performance.timeOrigin + performance.now()]));
}).observe(el, {childList: true, characterData: true, subtree: true});
return 0;
"""


def live_latency(d, app, root, count):
    """Telegrams from a meter on a LAN bridge (this script, on loopback) to the Now screen: for
    each, the time from its last byte leaving the socket to the shown power changing (the DOM)
    and to the next frame after that. Wall clocks on both sides (Python's time.time() and the
    page's performance.timeOrigin + now()) are the same system clock."""
    with open(V5, newline="") as f:
        template = f.read()
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    test_dir = os.path.join(root, "latency")
    os.makedirs(test_dir)
    s = Session(d, wrapper(app, test_dir), [])
    conn = None
    try:
        s.wait("the first-run wizard", lambda: s.js(
            "const e = document.getElementById('setup'); return !!e && !e.closest('[hidden]');"))
        s.js("document.querySelector('input[name=source][value=tcp]').click(); return 0;")
        s.type("#setup-tcp", f"127.0.0.1:{port}")
        s.type("#setup-pass", "correct horse battery staple")
        s.type("#setup-pass2", "correct horse battery staple")
        s.click("#setup-go")
        server.settimeout(60)
        conn, _ = server.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.wait("the app behind the wizard", lambda: s.js("return document.getElementById('gate').hidden;"), timeout=60)
        # A first telegram brings the Now screen up; then start watching.
        conn.sendall(telegram(template, int(time.time()), 0))
        s.wait("the first reading on screen", lambda: s.js(
            "return Number(document.getElementById('live-power').dataset.unix || 0);"), timeout=20)
        s.js(OBSERVE)
        sent = {}
        for k in range(1, count + 1):
            # One a second, as DSMR 5 meters send, each stamped with its own second.
            time.sleep(max(0.0, 1.0 - (time.time() % 1.0)))
            unix = int(time.time())
            data = telegram(template, unix, k)
            conn.sendall(data)
            sent[unix] = time.time()
        time.sleep(1.0)
        seen = s.js("return window.__seen;")
        dom, frame = [], []
        for unix, t_dom, t_frame in seen:
            if unix in sent:
                dom.append(t_dom - sent[unix] * 1000.0)
                frame.append(t_frame - sent[unix] * 1000.0)
        return {"sent": len(sent), "shown": len(dom), "dom": dom, "frame": frame}
    finally:
        if conn is not None:
            conn.close()
        server.close()
        s.close()


SWITCH = """
const [kind, done] = [arguments[0], arguments[arguments.length - 1]];
const el = document.getElementById('screen-history');
delete el.dataset.ms;
const t0 = performance.now();
const obs = new MutationObserver(() => {
  if (el.dataset.ms === undefined) return;
  obs.disconnect();
  const t1 = performance.now();
  requestAnimationFrame(() => setTimeout(() => done({
    data: t1 - t0, frame: performance.now() - t0, app_ms: Number(el.dataset.ms),
    rows: Number(el.dataset.rows), kind: el.dataset.kind,
    title: document.getElementById('hist-period').textContent}), 0));
});
obs.observe(el, {attributes: true});
document.querySelector(`.seg button[data-kind="${kind}"]`).click();
"""


INVOKE = """
const [kind, done] = [arguments[0], arguments[arguments.length - 1]];
const host = document.getElementById('hist-bars');
const t0 = performance.now();
window.__TAURI__.core.invoke('history', {kind, shift: 0, width: Math.round(host.clientWidth) || 800,
    height: Math.round(host.clientHeight) || 300, dark: false, compare: false})
  .then((p) => done({ms: performance.now() - t0, bytes: JSON.stringify(p).length,
    parts: Object.fromEntries(Object.entries(p).map(([k, v]) => [k, JSON.stringify(v).length]))}))
  .catch((e) => done({ms: -1, bytes: 0, error: String(e)}));
"""


def vault_history(d, app, root, vault, passphrase, rounds):
    test_dir = os.path.join(root, "vault")
    data = os.path.join(test_dir, "data", "hearth")
    os.makedirs(data)
    t = time.time()
    shutil.copyfile(vault, os.path.join(data, "vault.hearth"))
    size = os.path.getsize(vault)
    log(f"vault: copied {size / 1e9:.2f} GB in {time.time() - t:.1f} s")
    s = Session(d, wrapper(app, test_dir), [])
    try:
        s.wait("the lock screen", lambda: s.js(
            "const e = document.getElementById('unlock'); return !!e && !e.closest('[hidden]');"))
        s.type("#unlock-pass", passphrase)
        t0 = time.time()
        s.click("#unlock-go")
        s.wait("the app to unlock", lambda: s.js("return document.getElementById('gate').hidden;"),
               timeout=120, every=0.01)
        unlock_s = time.time() - t0
        log(f"vault: unlocked in {unlock_s:.2f} s")
        s.click('nav button[data-screen="history"]')
        s.wait("the first history page", lambda: int(s.js(
            "return document.getElementById('screen-history').dataset.rows || 0;")) > 0, timeout=120)
        times = {k: [] for k in ("day", "week", "month", "year")}
        first = {}
        for r in range(rounds + 1):
            for kind in times:
                v = s.js_async(SWITCH, kind)
                if v["kind"] != kind or v["rows"] <= 0:
                    raise AssertionError(f"{kind}: unexpected page {v}")
                if r == 0:
                    first[kind] = v
                else:
                    times[kind].append(v)
                log(f"vault: {kind} {v['title']!r}: {v['rows']} rows, data {v['data']:.1f} ms, "
                    f"frame {v['frame']:.1f} ms")
        # The shell's share: the same History requests invoked straight from the page, with
        # no DOM work (vault queries, charts drawn to SVG, IPC of the DTO).
        ipc = {}
        for kind in times:
            runs = [s.js_async(INVOKE, kind) for _ in range(rounds)]
            ipc[kind] = (statistics.median(r["ms"] for r in runs), runs[0]["bytes"])
            log(f"vault: invoke history {kind}: median {ipc[kind][0]:.0f} ms, {ipc[kind][1]} bytes of JSON")
            big = sorted(runs[0].get("parts", {}).items(), key=lambda kv: -kv[1])[:5]
            log(f"vault: history {kind}, largest parts: " + ", ".join(f"{k} {v}" for k, v in big))
        # Leave the year on screen for the memory figure.
        s.js_async(SWITCH, "year")
        time.sleep(2)
        m = tree_memory(app)
        s.screenshot(os.path.join(test_dir, "year.png"))
        return {"unlock": unlock_s, "times": times, "first": first, "memory": m, "size": size, "ipc": ipc}
    finally:
        s.close()
        # The copy is gigabytes: never leave it behind.
        for name in os.listdir(data):
            if name.startswith("vault.hearth"):
                os.remove(os.path.join(data, name))


def med_max(values):
    return statistics.median(values), max(values)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("app")
    ap.add_argument("--cold-runs", type=int, default=5)
    ap.add_argument("--demo-wait", type=float, default=60.0)
    ap.add_argument("--vault")
    ap.add_argument("--passphrase", default=os.environ.get("HEARTH_PASSPHRASE", "longhaul"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--telegrams", type=int, default=30)
    ap.add_argument("--only", default="cold,latency,memory,background,vault")
    a = ap.parse_args()
    only = set(a.only.split(","))
    app = os.path.abspath(a.app)
    if not os.access(app, os.X_OK):
        log(f"{app} is not an executable; build it first")
        return 2
    if "vault" in only and not a.vault:
        only.discard("vault")
        log("no --vault given: skipping the big-vault figures")
    driver_bin = shutil.which("tauri-driver") or os.path.expanduser("~/.cargo/bin/tauri-driver")
    root = tempfile.mkdtemp(prefix="hearth-perf-")
    env = dict(os.environ, MESA_SHADER_CACHE_DISABLE="true",
               XDG_DATA_HOME=os.path.join(root, "data"), XDG_CONFIG_HOME=os.path.join(root, "config"),
               XDG_CACHE_HOME=os.path.join(root, "cache"))
    drv_log = open(os.path.join(root, "tauri-driver.log"), "wb")
    drv = subprocess.Popen([driver_bin, "--port", str(PORT), "--native-port", str(NATIVE_PORT),
                            "--native-driver", "/usr/bin/WebKitWebDriver"], env=env, stdout=drv_log, stderr=drv_log)
    out = []
    status = 0
    try:
        wait_port(PORT)
        wait_port(NATIVE_PORT)
        d = Driver(PORT)
        load = open("/proc/loadavg").read().split()[:3]
        out.append(f"`{' '.join(os.path.basename(x) if i == 0 else x for i, x in enumerate(sys.argv))}` "
                   f"({time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, load {' '.join(load)}, "
                   f"app `{app}`, {os.path.getsize(app) / 1e6:.1f} MB)")
        out.append("")
        if "cold" in only:
            res = cold_start(d, app, root, a.cold_runs)
            chart = [r["chart"] for r in res]
            spawn = [r["spawn_to_chart"] for r in res if r["spawn_to_chart"] is not None]
            session = [r["session"] for r in res]
            out += ["| cold start, `--demo`, release | median | min | max |", "|---|---|---|---|",
                    f"| new-session request → Now chart SVG in the DOM ({len(chart)} runs) | **{statistics.median(chart):.2f} s** "
                    f"| {min(chart):.2f} s | {max(chart):.2f} s |"]
            if spawn:
                out.append(f"| app process start (kernel) → chart | {statistics.median(spawn):.2f} s | {min(spawn):.2f} s | {max(spawn):.2f} s |")
            out.append(f"| new-session request → session ready (page loaded) | {statistics.median(session):.2f} s "
                       f"| {min(session):.2f} s | {max(session):.2f} s |")
            out.append("")
        if "memory" in only:
            m = demo_memory(d, app, root, a.demo_wait)
            out += [f"| memory after {a.demo_wait:.0f} s on `--demo` (Now screen) | RSS | PSS | USS |", "|---|---|---|---|"]
            out += mem_table_rows(m)
            out.append("")
            base = webkit_baseline(min(a.demo_wait, 20.0))
            if base:
                out += ["| for comparison: WebKitGTK's MiniBrowser on `about:blank`, same environment | RSS | PSS | USS |",
                        "|---|---|---|---|"]
                out += mem_table_rows(base)
                out.append("")
        if "latency" in only:
            lat = live_latency(d, app, root, a.telegrams)
            dom, frame = sorted(lat["dom"]), sorted(lat["frame"])
            if dom:
                p95 = lambda v: v[min(len(v) - 1, int(round(0.95 * (len(v) - 1))))]  # noqa: E731
                out += [f"| telegram on a loopback LAN bridge → Now screen ({lat['shown']} of {lat['sent']} shown) "
                        f"| median | 95th percentile | max |", "|---|---|---|---|",
                        f"| last byte sent → shown power changed (DOM) | **{statistics.median(dom):.1f} ms** "
                        f"| {p95(dom):.1f} ms | {max(dom):.1f} ms |",
                        f"| last byte sent → next frame | {statistics.median(frame):.1f} ms | {p95(frame):.1f} ms "
                        f"| {max(frame):.1f} ms |", ""]
            else:
                out += [f"latency: none of {lat['sent']} telegrams was seen on the Now screen", ""]
                status = 1
        if "background" in only:
            minimized, closed = background_memory(d, app, root, min(a.demo_wait, 30.0))
            out += ["| memory in the tray, `--demo`: started with `--minimized` (no window) | RSS | PSS | USS |", "|---|---|---|---|"]
            out += mem_table_rows(minimized)
            out += ["", "| memory in the tray, `--demo`: after closing the window | RSS | PSS | USS |", "|---|---|---|---|"]
            out += mem_table_rows(closed)
            out.append("")
        if "vault" in only:
            v = vault_history(d, app, root, a.vault, a.passphrase, a.rounds)
            out += [f"App on the {v['size'] / 1e9:.2f} GB vault (`{os.path.basename(a.vault)}`): unlock through the "
                    f"lock screen (Argon2id 64 MiB + open) **{v['unlock']:.2f} s**.", "",
                    f"| History range switch ({a.rounds} rounds) | rows | first: click → drawn | median: click → data rendered "
                    f"| median: click → next frame | max: click → next frame | app's own invoke + render (median) "
                    f"| `invoke('history')` alone, no DOM (median) | DTO size |",
                    "|---|---|---|---|---|---|---|---|---|"]
            for kind, vals in v["times"].items():
                data_med, _ = med_max([x["data"] for x in vals])
                frame_med, frame_max = med_max([x["frame"] for x in vals])
                app_med = statistics.median([x["app_ms"] for x in vals])
                out.append(f"| {kind} ({vals[0]['title']}) | {vals[0]['rows']} | {v['first'][kind]['frame']:.0f} ms "
                           f"| {data_med:.0f} ms | **{frame_med:.0f} ms** | {frame_max:.0f} ms | {app_med:.0f} ms "
                           f"| {v['ipc'][kind][0]:.0f} ms | {v['ipc'][kind][1] / 1000:.0f} kB |")
            out += ["", "| memory, History → year on the big vault | RSS | PSS | USS |", "|---|---|---|---|"]
            out += mem_table_rows(v["memory"])
            out.append("")
    except Exception as e:  # noqa: BLE001 - report what failed, keep what was measured
        status = 1
        log(f"FAILED: {e}")
    finally:
        stop(drv)
        drv_log.close()
    print("\n".join(out))
    log(f"artefacts (screenshots, driver log) in {root}")
    return status


if __name__ == "__main__":
    sys.exit(main())
