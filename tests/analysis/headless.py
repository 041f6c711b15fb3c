"""Open a page in headless Chromium and report what a reader's browser would see.

Talks the DevTools protocol over --remote-debugging-pipe (JSON messages separated by NUL on
file descriptors 3 and 4), so no WebSocket library is needed: load the page, collect console
errors, exceptions and failed loads, check every <img> decoded, and take a screenshot.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = shutil.which("chromium")

#: Every image on the page: its source (shortened) and whether it decoded to a real bitmap.
IMAGES_JS = """JSON.stringify(Array.from(document.images).map(i => ({
    src: i.src.slice(0, 80), ok: i.complete && i.naturalWidth > 0, width: i.naturalWidth})))"""


@dataclass
class PageReport:
    images: list = field(default_factory=list)
    errors: list = field(default_factory=list)   #: console errors, exceptions, failed loads
    screenshot: Path | None = None


class _Pipe:
    def __init__(self, proc, to_browser, from_browser):
        self.proc, self.out, self.inp = proc, to_browser, from_browser
        self.next_id, self.buffer, self.events = 0, b"", []

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.out, json.dumps(msg).encode() + b"\0")
        return self.wait(lambda m: m.get("id") == self.next_id)

    def wait(self, match, timeout=60):
        end = time.monotonic() + timeout
        for i, m in enumerate(self.events):
            if match(m):
                return self.events.pop(i)
        while time.monotonic() < end:
            while b"\0" not in self.buffer:
                chunk = os.read(self.inp, 1 << 20)
                if not chunk:
                    raise RuntimeError("chromium closed the DevTools pipe")
                self.buffer += chunk
            raw, self.buffer = self.buffer.split(b"\0", 1)
            m = json.loads(raw)
            if "error" in m and "id" in m:
                raise RuntimeError(f"DevTools error: {m['error']}")
            if match(m):
                return m
            self.events.append(m)
        raise TimeoutError("no answer from chromium")


def open_page(page: Path, screenshot: Path, width=1400, height=1000) -> PageReport:
    """Load `page` (file URL) in headless Chromium; return its images, errors, screenshot."""
    to_r, to_w = os.pipe()      # our commands -> chromium's fd 3
    from_r, from_w = os.pipe()  # chromium's fd 4 -> us
    profile = screenshot.parent / "chromium-profile"

    def fds():  # in the child: the pipe ends become fds 3 and 4, inherited by exec
        high = [os.dup(to_r), os.dup(from_w)]  # (dup2 onto itself would keep close-on-exec)
        os.dup2(high[0], 3)
        os.dup2(high[1], 4)

    proc = subprocess.Popen(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
         "--no-first-run", f"--user-data-dir={profile}", f"--window-size={width},{height}",
         "about:blank"],
        preexec_fn=fds, close_fds=False, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    os.close(to_r)
    os.close(from_w)
    pipe = _Pipe(proc, to_w, from_r)
    report = PageReport()
    try:
        target = pipe.send("Target.createTarget", {"url": "about:blank"})["result"]["targetId"]
        session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "result"]["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            pipe.send(f"{domain}.enable", session=session)
        pipe.send("Page.navigate", {"url": page.resolve().as_uri()}, session=session)
        pipe.wait(lambda m: m.get("method") == "Page.loadEventFired")
        images = pipe.send("Runtime.evaluate", {"expression": IMAGES_JS, "returnByValue": True},
                           session=session)
        report.images = json.loads(images["result"]["result"]["value"])
        metrics = pipe.send("Page.getLayoutMetrics", session=session)["result"]
        size = metrics.get("cssContentSize", metrics.get("contentSize"))
        shot = pipe.send("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": min(size["height"], 12000),
                     "scale": 1}}, session=session)
        screenshot.write_bytes(base64.b64decode(shot["result"]["data"]))
        report.screenshot = screenshot
        for m in pipe.events:
            method, params = m.get("method"), m.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                report.errors.append("console: " + " ".join(
                    str(a.get("value", a.get("description", ""))) for a in params["args"]))
            elif method == "Runtime.exceptionThrown":
                report.errors.append("exception: " + params["exceptionDetails"].get("text", ""))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                e = params["entry"]
                report.errors.append(f"log: {e.get('text', '')} {e.get('url', '')}".strip())
    finally:
        try:
            pipe.send("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        os.close(to_w)
        os.close(from_r)
        shutil.rmtree(profile, ignore_errors=True)
    return report
