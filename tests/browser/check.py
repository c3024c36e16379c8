#!/usr/bin/env python3
"""Open surgesim report pages in headless Chromium and check them.

Usage: check.py CHROMIUM SHOTS_DIR KIND:FOLDER...   (KIND is run or compare)

Chromium is driven over the DevTools protocol on a pipe
(--remote-debugging-pipe: NUL-separated JSON on file descriptors 3 and 4),
so only the standard library is needed. For every page it checks:
  - the load event fires;
  - Chromium's Network domain reports exactly one request, for the page's own
    file:// URL (every name also resolves to nothing, --host-resolver-rules);
  - no console message of level error or warning, no uncaught exception and
    no browser log entry (CSP violations, failed loads) of level error/warning;
  - the inline script ran (the sortable headers are focusable);
  - run: every row of the summary table carries summary.json's means in
    data-v (the whole span and the window column, so the window's failed
    count too), read from summary.json here;
  - compare: every row's failed and saved cells carry compare.csv's means;
  - every plot: one inline <svg> figure per plot file (*.svg) in the folder,
    plus the compare bar chart with one bar per variant; each is drawn with a
    non-zero size;
  - at 1280 px and at 390 px (phone) the page does not scroll sideways;
    screenshots of the full page at both widths go to SHOTS_DIR.
Prints `browser: N passed, M failed`; exits 1 when a check failed.
"""

import base64
import csv
import json
import os
import pathlib
import select
import subprocess
import sys
import tempfile
import time

TIMEOUT = 60.0
WIDTHS = [(1280, False), (390, True)]


class Browser:
    """A headless Chromium with the DevTools protocol on a pipe."""

    def __init__(self, exe, profile, log):
        to_child_r, self.w = os.pipe()
        self.r, from_child_w = os.pipe()
        # Move the child's ends out of the way, then onto fds 3 and 4 in the child.
        a = os.dup(to_child_r)
        b = os.dup(from_child_w)
        os.close(to_child_r)
        os.close(from_child_w)

        def fds():
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [
            exe,
            "--headless",
            "--remote-debugging-pipe",
            f"--user-data-dir={profile}",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-gpu",
            "--hide-scrollbars",
            "--mute-audio",
            "--force-color-profile=srgb",
            "--font-render-hinting=none",
        ]
        if os.geteuid() == 0:
            args.append("--no-sandbox")
        args.append("about:blank")
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            preexec_fn=fds,
            close_fds=False,  # fds 3 and 4 are made in preexec_fn; the rest are close-on-exec
        )
        os.close(a)
        os.close(b)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def _read_message(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from Chromium")
            ready, _, _ = select.select([self.r], [], [], left)
            if ready:
                chunk = os.read(self.r, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"Chromium closed the pipe (exit {self.proc.poll()})")
                self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None, timeout=TIMEOUT):
        self.next_id += 1
        mid = self.next_id
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            n = os.write(self.w, data)
            data = data[n:]
        deadline = time.monotonic() + timeout
        while True:
            m = self._read_message(deadline)
            if m.get("id") == mid:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)

    def wait_event(self, method, session, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            for e in self.events:
                if e["method"] == method and e.get("sessionId") == session:
                    return e
            self.events.append(self._read_message(deadline))

    def drain(self, seconds):
        deadline = time.monotonic() + seconds
        try:
            while True:
                self.events.append(self._read_message(deadline))
        except TimeoutError:
            pass

    def close(self):
        try:
            self.call("Browser.close", timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.w)
        os.close(self.r)


# Collected in the page: the tables and figures the checks need, and widths.
PROBE = r"""(() => {
  const rows = sel => Array.from(document.querySelectorAll(sel)).map(tr => ({
    metric: tr.getAttribute('data-metric'),
    cells: Array.from(tr.cells).map(td => ({text: td.textContent.trim(), v: td.getAttribute('data-v')}))
  }));
  const heads = sel => Array.from(document.querySelectorAll(sel)).map(th => th.textContent.trim());
  const figs = Array.from(document.querySelectorAll('figure')).map(f => {
    const s = f.querySelector('svg');
    const r = s ? s.getBoundingClientRect() : {width: 0, height: 0};
    return {label: s ? s.getAttribute('aria-label') : null, w: r.width, h: r.height,
            marks: s ? s.querySelectorAll('polyline,rect,path,line,polygon,circle').length : 0,
            bars: s ? s.querySelectorAll('rect.bar').length : 0,
            titles: s ? Array.from(s.querySelectorAll('g > title')).map(t => t.textContent) : []};
  });
  return JSON.stringify({
    title: document.title,
    summaryHead: heads('table[id$="-summary"] thead th'),
    summary: rows('table[id$="-summary"] tbody tr'),
    compareHead: heads('table[id$="-compare"] thead th'),
    compare: rows('table[id$="-compare"] tbody tr'),
    figures: figs,
    svgs: document.querySelectorAll('svg').length,
    scriptRan: document.querySelectorAll('table.sortable th[tabindex="0"]').length,
    sortable: document.querySelectorAll('table.sortable th').length,
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    height: Math.ceil(document.documentElement.scrollHeight)
  });
})()"""


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
            print(f"  ok   {what}")
        else:
            self.failed += 1
            print(f"  FAIL {what}")
        return ok


def same(a, b):
    """A data-v attribute against a number read from the folder's files."""
    try:
        return a is not None and float(a) == float(b)
    except ValueError:
        return False


def evaluate(br, session, expr):
    r = br.call("Runtime.evaluate", {"expression": expr, "returnByValue": True}, session)
    if "exceptionDetails" in r:
        raise RuntimeError(f"probe failed: {r['exceptionDetails']}")
    return json.loads(r["result"]["value"])


def check_page(br, kind, folder, shots, c):
    page = (folder / "report.html").resolve()
    url = page.as_uri()
    name = f"{kind}-{folder.name}"
    print(f"browser: {kind} report {page}")
    target = br.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = br.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ["Page", "Network", "Runtime", "Log"]:
        br.call(f"{domain}.enable", {}, session)
    br.call("Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session)
    start = len(br.events)
    br.call("Page.navigate", {"url": url}, session)
    try:
        br.wait_event("Page.loadEventFired", session)
        loaded = True
    except TimeoutError:
        loaded = False
    c.check(loaded, f"{name}: the load event fired")
    br.drain(1.0)  # late messages after load
    events = [e for e in br.events[start:] if e.get("sessionId") == session]

    requests = [e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"]
    others = [u for u in requests if u != url]
    c.check(requests.count(url) == 1 and not others,
            f"{name}: one request, for the page itself (others: {others[:5]})")
    failed_loads = [e["params"].get("errorText") for e in events if e["method"] == "Network.loadingFailed"]
    c.check(not failed_loads, f"{name}: no failed load ({failed_loads[:5]})")

    console = []
    for e in events:
        p = e["params"]
        if e["method"] == "Runtime.consoleAPICalled" and p["type"] in ("error", "warning", "assert"):
            console.append(f"console.{p['type']}: " + " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"]))
        elif e["method"] == "Runtime.exceptionThrown":
            console.append("exception: " + p["exceptionDetails"].get("text", "") + " " + str(p["exceptionDetails"].get("exception", {}).get("description", "")))
        elif e["method"] == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
            console.append(f"log {p['entry']['source']}/{p['entry']['level']}: {p['entry']['text']}")
    for m in console:
        print(f"       {m}")
    c.check(not console, f"{name}: no console error or warning ({len(console)})")

    d = evaluate(br, session, PROBE)
    c.check(d["sortable"] > 0 and d["scriptRan"] == d["sortable"],
            f"{name}: the inline script ran ({d['scriptRan']} of {d['sortable']} headers sortable)")

    if kind == "run":
        sm = json.loads((folder / "summary.json").read_text())
        metrics = sm["metrics"]
        rows = {r["metric"]: r["cells"] for r in d["summary"]}
        win = sm.get("window")
        head = d["summaryHead"]
        c.check(win is not None and len(head) == 3 and head[2] == f"window {win['from_clock']}..{win['to_clock']}",
                f"{name}: the summary table's third column is the window {win} ({head})")
        wf = rows.get("failed", [])
        c.check(len(wf) == 3 and same(wf[2]["v"], metrics["window.failed"]["mean"]),
                f"{name}: window failed in the table = summary.json's {metrics['window.failed']['mean']}"
                f" (table: {wf[2]['v'] if len(wf) == 3 else None})")
        bad = []
        for m, cells in rows.items():
            w = metrics.get(f"window.{m}")
            if m not in metrics or len(cells) != 3 or not same(cells[1]["v"], metrics[m]["mean"]) \
                    or not (same(cells[2]["v"], w["mean"]) if w else cells[2]["v"] is None):
                bad.append(m)
        c.check(len(rows) >= 10 and not bad,
                f"{name}: all {len(rows)} summary rows carry summary.json's means (wrong: {bad})")
    else:
        with open(folder / "compare.csv", newline="") as fh:
            table = list(csv.DictReader(fh))
        got = d["compare"]
        bad = []
        for i, (want, row) in enumerate(zip(table, got)):
            label = row["cells"][0]["text"]
            if label.replace(" (base)", "") != want["scenario"] or (i == 0) != label.endswith("(base)") \
                    or not same(row["cells"][1]["v"], want["failed_mean"]) \
                    or not same(row["cells"][3]["v"], want["saved_mean"]):
                bad.append(want["scenario"])
        c.check(len(got) == len(table) and len(table) >= 2 and not bad,
                f"{name}: {len(got)} counterfactual rows carry compare.csv's failed and saved means (wrong: {bad})")

    plots = sorted(p.stem for p in folder.glob("*.svg"))
    figs = d["figures"]
    want = len(plots) + (1 if kind == "compare" else 0)
    c.check(len(figs) == want and d["svgs"] == want,
            f"{name}: {len(figs)} figures, {d['svgs']} <svg> (want {want}: plot files {plots}"
            f"{' + the saved-calls chart' if kind == 'compare' else ''})")
    for p in plots:
        f = [x for x in figs if x["label"] and x["label"].endswith(f": {p}")]
        c.check(len(f) == 1 and f[0]["w"] > 600 and f[0]["h"] > 200 and f[0]["marks"] > 10,
                f"{name}: {p}.svg drawn inline ({[(x['w'], x['h'], x['marks']) for x in f]})")
    if kind == "compare":
        f = [x for x in figs if x["label"] and x["label"].startswith("Calls saved")]
        variants = [r["scenario"] for r in table[1:]]
        named = all(any(t.startswith(v + ":") for t in (f[0]["titles"] if f else [])) for v in variants)
        c.check(len(f) == 1 and f[0]["bars"] == len(variants) and named and f[0]["w"] > 600,
                f"{name}: the saved-calls chart has one bar per variant ({f[0]['bars'] if f else 0} of {len(variants)})")

    for width, mobile in WIDTHS:
        br.call("Emulation.setDeviceMetricsOverride",
                {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": mobile}, session)
        d = evaluate(br, session, PROBE)
        c.check(d["scrollWidth"] <= d["innerWidth"],
                f"{name}: no sideways scrolling at {width} px (page {d['scrollWidth']} px wide)")
        br.call("Emulation.setDeviceMetricsOverride",
                {"width": width, "height": d["height"], "deviceScaleFactor": 1, "mobile": mobile}, session)
        shot = br.call("Page.captureScreenshot", {"format": "png"}, session)
        out = shots / f"{name}-{width}.png"
        out.write_bytes(base64.b64decode(shot["data"]))
        c.check(out.stat().st_size > 10_000, f"{name}: screenshot {out} ({width}x{d['height']})")
    br.call("Target.closeTarget", {"targetId": target})


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    exe, shots = sys.argv[1], pathlib.Path(sys.argv[2])
    shots.mkdir(parents=True, exist_ok=True)
    c = Checks()
    with tempfile.TemporaryDirectory(prefix="surgesim-browser.") as tmp:
        log_path = pathlib.Path(tmp) / "chromium.log"
        with open(log_path, "w") as log:
            br = Browser(exe, pathlib.Path(tmp) / "profile", log)
            try:
                for arg in sys.argv[3:]:
                    kind, folder = arg.split(":", 1)
                    try:
                        check_page(br, kind, pathlib.Path(folder), shots, c)
                    except (RuntimeError, TimeoutError, OSError, KeyError, ValueError) as e:
                        c.check(False, f"{kind} {folder}: {type(e).__name__}: {e}")
            finally:
                br.close()
        if c.failed:
            print("---- last lines of Chromium's output")
            lines = [x for x in log_path.read_text(errors="replace").splitlines() if "dbus" not in x]
            print("\n".join(lines[-20:]))
    print(f"browser: {c.passed} passed, {c.failed} failed")
    sys.exit(1 if c.failed else 0)


if __name__ == "__main__":
    main()
