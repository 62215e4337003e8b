"""Starts `tokenscope serve` on the demo model for the API tests. Run them with
    python3 -m venv /work/venv-api && /work/venv-api/bin/pip install -r tests/api/requirements.txt
    /work/venv-api/bin/python -m pytest tests/api -q

The binary is $TOKENSCOPE_BIN, else the newest build*/tokenscope in the repository that has `serve`. The server
binds 127.0.0.1 on a free port (--port 0) and prints the port on stderr; the fixture reads it from there.
"""
import glob
import os
import re
import subprocess
import threading
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO_MODEL = os.path.join(ROOT, "models", "tokenscope-demo.gguf")
CHATML = os.path.join(os.path.dirname(os.path.abspath(__file__)), "chatml.jinja")


def tokenscope_bin():
    env = os.environ.get("TOKENSCOPE_BIN")
    if env:
        return env
    # the newest build that has the serve command (other build folders may predate it)
    found = [p for p in glob.glob(os.path.join(ROOT, "build*", "tokenscope")) if os.access(p, os.X_OK)]
    for p in sorted(found, key=os.path.getmtime, reverse=True):
        if subprocess.run([p, "serve", "--help"], capture_output=True).returncode == 0:
            return p
    return None


class RunningServer:
    def __init__(self, extra_args=()):
        binary = tokenscope_bin()
        if not binary:
            pytest.skip("no tokenscope binary (build it, or set TOKENSCOPE_BIN)")
        self.binary = binary
        args = [binary, "serve", "-m", DEMO_MODEL, "--port", "0", "--alias", "demo", "-t", "2",
                "--chat-template-file", CHATML, *extra_args]
        self.proc = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        self.port = None
        self.log = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.log.append(line)
            m = re.search(r"on http://127\.0\.0\.1:(\d+)/", line)
            if m:
                self.port = int(m.group(1))
                break
        if self.port is None:
            self.stop()
            raise RuntimeError("tokenscope serve did not start: " + "".join(self.log))
        # keep reading the request log so the pipe never fills
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.proc.stderr:
            self.log.append(line)

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}/v1"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="session")
def server():
    s = RunningServer()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def keyed_server():
    s = RunningServer(["--api-key", "test-key"])
    yield s
    s.stop()
