"""Debian's Apache httpd on a free loopback port, configured by a test: started in the foreground, stopped after."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import requests

APACHE = shutil.which("apache2") or "/usr/sbin/apache2"
MODULES = Path("/usr/lib/apache2/modules")
HEAD = """ServerRoot "{root}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile "{root}/httpd.pid"
ErrorLog "{root}/error.log"
LogLevel warn
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authz_core_module {modules}/mod_authz_core.so
User www-data
Group www-data
"""


class Apache:
    """Apache with ``modules`` loaded and ``config`` (``{root}`` names its directory) after the common head;
    ``files`` are written below the root first (paths relative to it)."""

    def __init__(self, port: int, config: str, *, modules: tuple[str, ...] = (),
                 files: dict[str, str] | None = None) -> None:
        self.port = port
        self.root = Path(tempfile.mkdtemp(prefix="fwgraph-apache-"))
        self.url = f"http://127.0.0.1:{port}/"
        self.config = config
        self.modules = modules
        self.files = files or {}
        self.process: subprocess.Popen | None = None

    def start(self, probe: str = "") -> None:
        """Start and wait until ``probe`` (a path) gets any answer."""
        assert Path(APACHE).is_file(), "Apache httpd is needed (Debian: apt-get install apache2)"
        for name, text in self.files.items():
            path = self.root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        loads = "".join(f"LoadModule {m}_module {MODULES}/mod_{m}.so\n" for m in self.modules)
        head = HEAD.format(root=self.root, port=self.port, modules=MODULES)
        conf = head + loads + self.config.replace("{root}", str(self.root))
        (self.root / "httpd.conf").write_text(conf)
        for path in [self.root, *self.root.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)  # Apache's workers run as www-data
        self.process = subprocess.Popen([APACHE, "-f", str(self.root / "httpd.conf"), "-DFOREGROUND"],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(self.url + probe, allow_redirects=False, timeout=2)
                return
            except requests.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    out = self.process.stdout.read().decode() if self.process.stdout else ""
                    raise RuntimeError(f"Apache did not start: {out}\n{self.log()}") from None
                time.sleep(0.1)

    def log(self) -> str:
        log = self.root / "error.log"
        return log.read_text() if log.is_file() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        shutil.rmtree(self.root, ignore_errors=True)
