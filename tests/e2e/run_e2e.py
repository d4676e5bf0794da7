#!/usr/bin/env python3
"""End-to-end tests: drive the real Hearth window through tauri-driver and WebKitWebDriver.

Usage (under a display; CI uses Xvfb):
    xvfb-run -a -s "-screen 0 1280x800x24" python3 tests/e2e/run_e2e.py target/debug/hearth-desktop
Options:
    --screenshot-out PATH   also copy the live-view screenshot there (docs/screenshot.png)
    --only NAME             run only tests whose name contains NAME

Python stdlib only. One keep-alive http.client connection (tauri-driver 2.1.0 drops requests
sent with `Connection: close`), both driver ports awaited before the first session (port race),
one app session per test, each test with its own temp dir (XDG dirs, screenshot). The last line
is `e2e: N passed, N failed`; the exit status is non-zero when anything failed.
"""
import argparse
import base64
import csv
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback

PORT, NATIVE_PORT = 4444, 4445
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


class Driver:
    """A minimal W3C WebDriver client over one persistent connection."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def call(self, method, path, body=None):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=90)
            try:
                data = None if body is None else json.dumps(body).encode()
                self.conn.request(method, path, body=data,
                                  headers={"Content-Type": "application/json; charset=utf-8"})
                resp = self.conn.getresponse()
                raw = resp.read()
                break
            except (http.client.HTTPException, ConnectionError) as e:
                # A dropped keep-alive connection: reconnect once, then give up.
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise RuntimeError(f"{method} {path}: {e}") from e
        value = json.loads(raw or b"{}").get("value")
        if resp.status >= 400:
            raise RuntimeError(f"{method} {path}: HTTP {resp.status}: {value}")
        return value


class Session:
    """One app instance (tauri-driver launches it per session)."""

    def __init__(self, driver, application, args):
        caps = {"capabilities": {"alwaysMatch": {"tauri:options": {"application": application, "args": args}}}}
        self.d = driver
        self.id = driver.call("POST", "/session", caps)["sessionId"]

    def _p(self, suffix):
        return f"/session/{self.id}{suffix}"

    def find(self, css):
        return self.d.call("POST", self._p("/element"), {"using": "css selector", "value": css})[ELEMENT]

    def find_all(self, css):
        return [e[ELEMENT] for e in self.d.call("POST", self._p("/elements"), {"using": "css selector", "value": css})]

    def text(self, css):
        return self.d.call("GET", self._p(f"/element/{self.find(css)}/text"))

    def attr(self, css, name):
        return self.d.call("GET", self._p(f"/element/{self.find(css)}/attribute/{name}"))

    def click(self, css):
        self.d.call("POST", self._p(f"/element/{self.find(css)}/click"), {})

    def type(self, css, keys, clear=True):
        el = self.find(css)
        if clear:
            self.d.call("POST", self._p(f"/element/{el}/clear"), {})
        self.d.call("POST", self._p(f"/element/{el}/value"), {"text": keys})

    def js(self, script, *args):
        return self.d.call("POST", self._p("/execute/sync"), {"script": script, "args": list(args)})

    def screenshot(self, path):
        png = base64.b64decode(self.d.call("GET", self._p("/screenshot")))
        with open(path, "wb") as f:
            f.write(png)
        return path

    def close(self):
        try:
            self.d.call("DELETE", self._p(""))
        except Exception as e:  # noqa: BLE001 - closing must not mask the test result
            print(f"  (closing the session failed: {e})")

    def wait(self, what, fn, timeout=20.0, every=0.2):
        """Polls fn() until it returns a truthy value; returns it, or fails naming `what`."""
        end = time.time() + timeout
        last_err = None
        while time.time() < end:
            try:
                v = fn()
                if v:
                    return v
            except RuntimeError as e:
                last_err = e
            time.sleep(every)
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}" + (f" (last error: {last_err})" if last_err else ""))


def wait_port(port, limit=30.0):
    end = time.time() + limit
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"port {port} never opened")


POWER = re.compile(r"^-?[\d,.\u202f\u00a0 ]+ k?W$")


# ---- the tests -------------------------------------------------------------------------------

def test_live_power_appears_and_changes(s, ctx):
    first = s.wait("a live power value", lambda: (t := s.text("#live-power")) and POWER.match(t) and t)
    unix0 = int(s.attr("#live-power", "data-unix"))
    # A new telegram arrives every second: its time must advance, and the shown power must move.
    s.wait("a newer reading", lambda: int(s.attr("#live-power", "data-unix")) > unix0, timeout=10)
    s.wait(f"the power to change from {first!r}", lambda: s.text("#live-power") != first, timeout=30)
    assert "telegrams read" in s.text("#frames"), s.text("#frames")
    shot = s.screenshot(os.path.join(ctx["dir"], "live.png"))
    if ctx.get("screenshot_out"):
        # Let the chart gather a few more seconds of data for a better picture.
        time.sleep(8)
        s.screenshot(ctx["screenshot_out"])
    return shot


def test_live_chart_is_drawn(s, ctx):
    s.wait("the chart SVG", lambda: s.find_all("#live-chart svg"))
    title = s.wait("the chart title", lambda: s.js("const t = document.querySelector('#live-chart svg title'); return t && t.textContent;"))
    assert title == "Power, last 10 minutes", title
    # The data line is a polyline in the first palette colour; wait for two samples.
    s.wait("a data line", lambda: s.js(
        "return document.querySelectorAll('#live-chart svg polyline[stroke=\"#0072B2\"], #live-chart svg polyline[stroke=\"#56B4E9\"]').length;"), timeout=15)
    assert s.attr("#live-chart svg", "role") == "img"
    s.screenshot(os.path.join(ctx["dir"], "chart.png"))


def visible(s, css):
    return s.js(f"const e = document.querySelector({json.dumps(css)}); return !!e && !e.closest('[hidden]');")


def test_first_run_wizard_then_lock_and_unlock(s, ctx):
    # A fresh data directory: the wizard is the first thing shown, the app behind it hidden.
    s.wait("the first-run wizard", lambda: visible(s, "#setup"))
    assert not visible(s, "#unlock")
    s.type("#setup-pass", "short")
    assert "Too short" in s.text("#setup-strength"), s.text("#setup-strength")
    s.type("#setup-pass", "correct horse battery staple")
    assert s.text("#setup-strength") == "Strong.", s.text("#setup-strength")
    s.type("#setup-pass2", "correct horse battery stapler")
    s.click("#setup-go")
    s.wait("the mismatch message", lambda: "differ" in s.text("#setup-error"))
    s.type("#setup-pass2", "correct horse battery staple")
    assert s.js("return document.querySelector('input[name=source][value=demo]').checked;")
    s.click("#setup-go")
    # Argon2id with the real cost runs here (seconds in a debug build).
    s.wait("the vault to be created", lambda: not visible(s, "#gate"), timeout=90)
    s.wait("live power from the demo meter", lambda: POWER.match(s.text("#live-power") or ""), timeout=20)
    s.screenshot(os.path.join(ctx["dir"], "after-wizard.png"))
    # Lock, then a wrong passphrase, then the right one.
    s.click("#lock-now")
    s.wait("the lock screen", lambda: visible(s, "#unlock"))
    s.type("#unlock-pass", "not my passphrase")
    s.click("#unlock-go")
    s.wait("the wrong-passphrase message", lambda: "does not unlock" in s.text("#unlock-error"), timeout=90)
    assert s.attr("#unlock-error", "data-code") == "WrongPassphrase"
    assert visible(s, "#unlock")
    s.screenshot(os.path.join(ctx["dir"], "wrong-passphrase.png"))
    s.type("#unlock-pass", "correct horse battery staple")
    s.click("#unlock-go")
    s.wait("the app to unlock", lambda: not visible(s, "#gate"), timeout=90)
    s.screenshot(os.path.join(ctx["dir"], "unlocked.png"))


def test_history_ranges_switch(s, ctx):
    s.wait("the app", lambda: POWER.match(s.text("#live-power") or ""))
    s.click('nav button[data-screen="history"]')
    # The demo's history is generated at start; wait until it is done and the day has bars.
    s.wait("demo history to be ready", lambda: s.text("#hist-status") == "" and int(s.attr("#screen-history", "data-rows") or 0) > 0, timeout=90)
    titles = {}
    for kind, rows_at_least in (("day", 1), ("week", 2), ("month", 2), ("year", 1)):
        s.click(f'.seg button[data-kind="{kind}"]')
        s.wait(f"the {kind} page", lambda: s.attr("#screen-history", "data-kind") == kind)
        s.wait(f"{kind} rows", lambda: int(s.attr("#screen-history", "data-rows") or 0) >= rows_at_least)
        titles[kind] = s.text("#hist-period")
        assert s.find_all("#hist-bars svg") and s.find_all("#hist-power svg"), kind
        print(f"     {kind}: {titles[kind]!r}, {s.attr('#screen-history', 'data-rows')} rows, {s.attr('#screen-history', 'data-ms')} ms")
    assert titles["week"].startswith("Week of "), titles
    assert len(set(titles.values())) == 4, titles
    assert s.find_all("#hist-heat svg")
    # Step back one year and compare.
    s.click("#hist-prev")
    s.wait("the previous year", lambda: s.text("#hist-period") == str(int(titles["year"]) - 1))
    s.click("#hist-next")
    s.wait("this year again", lambda: s.text("#hist-period") == titles["year"])
    s.click('.seg button[data-kind="day"]')
    s.click("#hist-compare")
    s.wait("a comparison total", lambda: s.text("#hist-prev-total") not in ("", "–"))
    s.screenshot(os.path.join(ctx["dir"], "history.png"))


def test_export_csv(s, ctx):
    s.wait("the app", lambda: POWER.match(s.text("#live-power") or ""))
    s.click('nav button[data-screen="export"]')
    out = os.path.join(ctx["dir"], "export.csv")
    s.type("#exp-path", out)
    s.click("#exp-go")
    s.wait("the export to finish", lambda: "Wrote" in s.text("#exp-result") or "error" in (s.attr("#exp-result", "class") or ""), timeout=60)
    msg = s.text("#exp-result")
    assert msg.startswith("Wrote"), msg
    reported = int(s.attr("#exp-result", "data-rows"))
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    assert header[:3] == ["time", "meter_id", "protocol"], header[:5]
    assert "import_kwh" in header and "estimated" in header, header
    assert len(rows) - 1 == reported and reported >= 24, (len(rows), reported)
    col = header.index("import_kwh")
    used = [float(r[col]) for r in rows[1:] if r[col]]
    # Hourly rows of a household: energy per hour between 0 and 20 kWh, and some use.
    assert used and all(0 <= u < 20 for u in used) and sum(used) > 0, used[:5]
    s.screenshot(os.path.join(ctx["dir"], "export.png"))


def test_privacy_page(s, ctx):
    s.wait("the app", lambda: POWER.match(s.text("#live-power") or ""))
    s.click('nav button[data-screen="privacy"]')
    s.wait("the privacy page", lambda: visible(s, "#privacy-path"))
    path = s.text("#privacy-path")
    assert path.endswith("vault.hearth"), path
    assert "Nothing." in s.text("#screen-privacy")
    s.screenshot(os.path.join(ctx["dir"], "privacy.png"))


def test_costs_screen(s, ctx):
    s.wait("the app", lambda: POWER.match(s.text("#live-power") or ""))
    s.click('nav button[data-screen="costs"]')
    # The default contract is the first preset; the demo history arrives while we wait, so
    # reopen the screen until the month shows imported energy.
    def priced():
        s.click('nav button[data-screen="costs"]')
        time.sleep(0.5)
        rows = s.find_all("#cost-table tbody tr")
        return rows and s.text("#cost-import") not in ("", "–", "0.0 kWh") and rows
    s.wait("a cost report with energy", priced, timeout=90)
    assert s.text("#cost-table tbody tr th") == "NL single rate (example)", s.text("#cost-table tbody tr th")
    total = float(s.attr("#cost-table tbody tr", "data-total"))
    assert total > 0, total
    kwh = s.text("#cost-import")
    print(f"     this month: {kwh}, total EUR {total}")
    # Last 12 months: more energy and a larger bill than this month alone.
    s.js("const p = document.getElementById('cost-period'); p.value = 'last-12-months'; p.dispatchEvent(new Event('change'));")
    s.wait("the 12-month report", lambda: float(s.attr("#cost-table tbody tr", "data-total")) > total)
    # A broken contract shows the parser's line; a fixed one is saved and offered.
    s.click("#screen-costs details summary")
    set_toml = "document.getElementById('contract-toml').value = arguments[0];"
    s.js(set_toml, 'name = "Mine"\ncurrency = "EUR"\ntime_zone = "Europe/Amsterdam"\nvat_percent = "lots"\n[import]\nprice_per_kwh = 0.30\n')
    s.click("#contract-save")
    s.wait("the parser's error", lambda: "line 4" in s.text("#contract-result"))
    assert "error" in s.attr("#contract-result", "class")
    s.js(set_toml, 'name = "Mine"\ncurrency = "EUR"\ntime_zone = "Europe/Amsterdam"\nvat_percent = 0\n[import]\nprice_per_kwh = 0.30\n')
    s.click("#contract-save")
    s.wait("the saved contract", lambda: s.text("#contract-result").startswith("Saved"))
    s.wait("Mine in the report", lambda: any(
        t == "Mine" for t in s.js("return [...document.querySelectorAll('#cost-table tbody th')].map(e => e.textContent);")))
    assert s.js("return document.querySelector('#cost-contracts input[data-id=\"tariff/mine\"]').checked;")
    s.screenshot(os.path.join(ctx["dir"], "costs.png"))


def test_tips_screen(s, ctx):
    s.wait("the app", lambda: POWER.match(s.text("#live-power") or ""))
    s.click('nav button[data-screen="history"]')
    s.wait("demo history to be ready", lambda: s.text("#hist-status") == "" and int(s.attr("#screen-history", "data-rows") or 0) > 0, timeout=240)
    s.click('nav button[data-screen="tips"]')
    s.wait("the tips", lambda: s.attr("#screen-tips", "data-count") is not None, timeout=60)
    n = int(s.attr("#screen-tips", "data-count"))
    status = s.text("#tips-status")
    print(f"     {n} tips: {status!r}")
    if n == 0:
        assert status == "No tips: your readings do not show anything worth changing yet.", status
    else:
        assert len(s.find_all("#tips-list li.tip")) == n
        for summary in s.js("return [...document.querySelectorAll('#tips-list .tip-summary')].map(e => e.textContent);"):
            assert len(summary) > 10, summary
        assert "Confidence" in s.text("#tips-list li.tip")
        print("     first: " + s.text("#tips-list li.tip .tip-summary"))
    s.screenshot(os.path.join(ctx["dir"], "tips.png"))


def test_settings_passphrase_then_lock_and_unlock(s, ctx):
    s.wait("the app", lambda: POWER.match(s.text("#live-power") or ""))
    s.click('nav button[data-screen="settings"]')
    s.wait("the saved source", lambda: s.text("#src-current") == "demo")
    s.type("#pw-current", "not the passphrase")
    s.type("#pw-new", "a brand new passphrase")
    s.type("#pw-new2", "a brand new passphrase")
    s.click("#pw-go")
    s.wait("the wrong-passphrase message", lambda: s.attr("#pw-result", "data-code") == "WrongPassphrase", timeout=30)
    s.type("#pw-current", "demo")
    s.click("#pw-go")
    s.wait("the change to succeed", lambda: s.text("#pw-result").startswith("Passphrase changed"), timeout=30)
    s.click("#settings-lock")
    s.wait("the lock screen", lambda: visible(s, "#unlock"))
    s.type("#unlock-pass", "demo")
    s.click("#unlock-go")
    s.wait("the old passphrase refused", lambda: "does not unlock" in s.text("#unlock-error"), timeout=30)
    s.type("#unlock-pass", "a brand new passphrase")
    s.click("#unlock-go")
    s.wait("the app to unlock", lambda: not visible(s, "#gate"), timeout=30)
    s.screenshot(os.path.join(ctx["dir"], "settings.png"))


TESTS = [
    ("live power appears and changes", test_live_power_appears_and_changes, ["--demo"]),
    ("live chart is drawn", test_live_chart_is_drawn, ["--demo"]),
    ("first-run wizard, lock, wrong then right passphrase", test_first_run_wizard_then_lock_and_unlock, []),
    ("history ranges switch", test_history_ranges_switch, ["--demo", "--demo-days", "3"]),
    ("export CSV", test_export_csv, ["--demo", "--demo-days", "2"]),
    ("privacy page", test_privacy_page, ["--demo", "--demo-days", "0"]),
    ("costs screen", test_costs_screen, ["--demo", "--demo-days", "3"]),
    ("tips screen", test_tips_screen, ["--demo", "--demo-days", "90"]),
    ("settings: passphrase change, lock, unlock", test_settings_passphrase_then_lock_and_unlock, ["--demo", "--demo-days", "0"]),
]


def wrapper(app, test_dir):
    """A launcher giving this test's app instance its own XDG dirs."""
    path = os.path.join(test_dir, "app.sh")
    env = "".join(f'export {k}="{os.path.join(test_dir, v)}"\n' for k, v in
                  (("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config"), ("XDG_CACHE_HOME", "cache")))
    with open(path, "w") as f:
        f.write(f"#!/bin/sh\n{env}export MESA_SHADER_CACHE_DISABLE=true\nexport TMPDIR=\"{test_dir}\"\nexec \"{app}\" \"$@\"\n")
    os.chmod(path, 0o755)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("app")
    ap.add_argument("--screenshot-out")
    ap.add_argument("--only")
    a = ap.parse_args()
    app = os.path.abspath(a.app)
    if not os.access(app, os.X_OK):
        print(f"e2e: {app} is not an executable; build it first (cargo build -p hearth-desktop)")
        print("e2e: 0 passed, 1 failed")
        return 1
    driver_bin = shutil.which("tauri-driver") or os.path.expanduser("~/.cargo/bin/tauri-driver")
    root = tempfile.mkdtemp(prefix="hearth-e2e-")
    env = dict(os.environ, MESA_SHADER_CACHE_DISABLE="true",
               XDG_DATA_HOME=os.path.join(root, "data"), XDG_CONFIG_HOME=os.path.join(root, "config"),
               XDG_CACHE_HOME=os.path.join(root, "cache"))
    log = open(os.path.join(root, "tauri-driver.log"), "wb")
    drv = subprocess.Popen([driver_bin, "--port", str(PORT), "--native-port", str(NATIVE_PORT),
                            "--native-driver", "/usr/bin/WebKitWebDriver"], env=env, stdout=log, stderr=log)
    passed = failed = 0
    try:
        wait_port(PORT)
        wait_port(NATIVE_PORT)
        d = Driver(PORT)
        for name, fn, args in TESTS:
            if a.only and a.only not in name:
                continue
            test_dir = os.path.join(root, re.sub(r"\W+", "-", name))
            os.makedirs(test_dir)
            ctx = {"dir": test_dir}
            if a.screenshot_out and fn is test_live_power_appears_and_changes:
                ctx["screenshot_out"] = os.path.abspath(a.screenshot_out)
            t0 = time.time()
            s = None
            try:
                s = Session(d, wrapper(app, test_dir), args)
                fn(s, ctx)
                passed += 1
                print(f"ok   {name} ({time.time() - t0:.1f} s)")
            except Exception as e:  # noqa: BLE001 - report every failure and go on
                failed += 1
                print(f"FAIL {name} ({time.time() - t0:.1f} s): {e}")
                traceback.print_exc(limit=3, file=sys.stdout)
                if s is not None:
                    try:
                        print(f"     screenshot: {s.screenshot(os.path.join(test_dir, 'failure.png'))}")
                    except Exception as e2:  # noqa: BLE001
                        print(f"     (no screenshot: {e2})")
            finally:
                if s is not None:
                    s.close()
    except Exception as e:  # noqa: BLE001 - the driver itself failed
        failed += 1
        print(f"FAIL driver: {e}")
    finally:
        drv.terminate()
        try:
            drv.wait(10)
        except subprocess.TimeoutExpired:
            drv.kill()
        log.close()
    print(f"e2e: artefacts in {root}")
    print(f"e2e: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
