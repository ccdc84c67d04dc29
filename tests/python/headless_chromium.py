"""Open a local page in headless Chromium through the DevTools protocol and record what happened.

A small Chrome DevTools Protocol client over `websockets` (sync API): Chromium starts with
`--remote-debugging-port=0` in a throw-away profile, writes its port to DevToolsActivePort,
and we attach to one page target to collect console messages, uncaught exceptions, log
entries (CSP violations and failed loads land there) and every network request, then read the
DOM and take a screenshot. No network is needed or used.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--metrics-recording-only",
    "--mute-audio",
    "--hide-scrollbars",
)


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageVisit:
    console: list[dict[str, Any]] = field(default_factory=list)  # {"type", "text"}
    exceptions: list[str] = field(default_factory=list)
    log_entries: list[dict[str, Any]] = field(default_factory=list)  # {"level", "source", "text", "url"}
    requests: list[str] = field(default_factory=list)  # every URL the page requested
    failed: list[str] = field(default_factory=list)
    evaluated: Any = None
    screenshot: bytes = b""

    @property
    def errors(self) -> list[str]:
        out = [f"console.{c['type']}: {c['text']}" for c in self.console if c["type"] in ("error", "assert")]
        out += [f"exception: {e}" for e in self.exceptions]
        out += [f"log {e['level']} ({e['source']}): {e['text']}" for e in self.log_entries if e["level"] == "error"]
        out += [f"failed request: {u}" for u in self.failed]
        return out


class _Session:
    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        self.next_id += 1
        msg: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        while True:
            reply = json.loads(self.ws.recv(timeout=30))
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        if any(e.get("method") == method for e in self.events):
            return
        while time.monotonic() < deadline:
            try:
                event = json.loads(self.ws.recv(timeout=max(0.05, deadline - time.monotonic())))
            except TimeoutError:
                break
            self.events.append(event)
            if event.get("method") == method:
                return
        raise TimeoutError(f"no {method} within {timeout}s")

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.events.append(json.loads(self.ws.recv(timeout=max(0.05, deadline - time.monotonic()))))
            except TimeoutError:
                return


def visit(
    url: str, expression: str, width: int = 1200, height: int = 900, full_page: bool = True, mobile: bool = False
) -> PageVisit:
    """Load `url`, evaluate `expression` (JSON-serialisable result) and screenshot the page."""
    from websockets.sync.client import connect

    binary = chromium_binary()
    if binary is None:
        raise FileNotFoundError("chromium is not installed (make test installs Debian's chromium)")
    profile = Path(tempfile.mkdtemp(prefix="ltx-chromium-"))
    proc = subprocess.Popen(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
         f"--window-size={width},{height}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "TZ": "UTC"},
    )  # fmt: skip
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        with connect(f"ws://127.0.0.1:{port}{path}", max_size=64 * 2**20, open_timeout=30) as ws:
            s = _Session(ws)
            target = s.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            sid = s.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                s.send(f"{domain}.enable", session=sid)
            if mobile:
                s.send(
                    "Emulation.setDeviceMetricsOverride",
                    {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": True},
                    session=sid,
                )
            s.events.clear()
            s.send("Page.navigate", {"url": url}, session=sid)
            s.wait_for("Page.loadEventFired", timeout=30)
            s.drain(0.5)  # late console / log events
            result = s.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=sid).get(
                "result", {}
            )
            params: dict[str, Any] = {"format": "png", "captureBeyondViewport": full_page}
            if full_page:
                metrics = s.send("Page.getLayoutMetrics", session=sid)
                size = metrics.get("cssContentSize") or metrics["contentSize"]
                params["clip"] = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
            shot = s.send("Page.captureScreenshot", params, session=sid)
            s.drain(0.2)
            out = PageVisit(evaluated=result.get("value"), screenshot=base64.b64decode(shot["data"]))
            for e in s.events:
                m, p = e.get("method"), e.get("params", {})
                if e.get("sessionId") not in (None, sid):
                    continue
                if m == "Runtime.consoleAPICalled":
                    text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
                    out.console.append({"type": p.get("type"), "text": text})
                elif m == "Runtime.exceptionThrown":
                    out.exceptions.append(json.dumps(p.get("exceptionDetails", {}))[:500])
                elif m == "Log.entryAdded":
                    entry = p.get("entry", {})
                    out.log_entries.append({k: entry.get(k) for k in ("level", "source", "text", "url")})
                elif m == "Network.requestWillBeSent":
                    out.requests.append(p.get("request", {}).get("url", ""))
                elif m == "Network.loadingFailed":
                    out.failed.append(f"{p.get('errorText')} ({p.get('blockedReason')})")
            return out
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)
