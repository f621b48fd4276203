"""Debian's nginx, configured from deploy/stationmap.nginx.conf, in front of a test server.

nginx runs in the foreground with everything of its own in a temporary directory (prefix, pid,
logs, temporary files) and listens on a free loopback port, so the test needs no root and
touches nothing of the machine's own nginx. As root, its workers stay root (``user root``) so
that they can read the temporary directory and the checkout.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from conftest import require_program

from stationmap._paths import shipped

SITE = Path(__file__).resolve().parent.parent / "deploy" / "stationmap.nginx.conf"
SNIPPET = SITE.with_name("stationmap-snippet.nginx.conf")
MAIN = """daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
{user}
events {{ worker_connections 2048; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/stationmap.conf;
}}
"""


def render(port: int, upstream: str, snippet: str, server_name: str = "127.0.0.1",
           tls: tuple[int, str, str] | None = None) -> str:
    """The shipped site file with its placeholders filled in, as docs/deploy.md's ``sed`` does;
    with ``tls`` (port, certificate, key) its commented TLS server block is switched on too."""
    text = SITE.read_text(encoding="utf-8")
    if tls:
        lines, on = [], False
        for line in text.splitlines():
            on = on or (line == "# server {" and "@TLS_LISTEN@" in text.split(line, 1)[1].split("# }", 1)[0])
            lines.append(line[2:] if on and line.startswith("# ") else line)
            on = on and line != "# }"
        text = "\n".join(lines) + "\n"
    port_tls, cert, key = tls or (0, "", "")
    for key_, value in {"@LISTEN@": f"127.0.0.1:{port}", "@UPSTREAM@": upstream, "@SERVER_NAME@": server_name,
                        "@SNIPPET@": snippet, "@TLS_LISTEN@": f"127.0.0.1:{port_tls}", "@TLS_CERT@": cert,
                        "@TLS_KEY@": key}.items():
        text = text.replace(key_, value)
    return text


def render_snippet() -> str:
    return SNIPPET.read_text(encoding="utf-8").replace("@STATIC_ROOT@", str(shipped("static")))


@contextmanager
def nginx_front(upstream_url: str, port: int, tls_port: int | None = None):
    """nginx on ``127.0.0.1:port`` in front of ``upstream_url``; yields its base URL. With
    ``tls_port``, also HTTPS there with a self-signed certificate (``{tmp}/cert.pem``)."""
    binary = require_program("nginx", package="nginx-light")
    with tempfile.TemporaryDirectory(prefix="stationmap-nginx-") as tmp:
        os.chmod(tmp, 0o755)
        tls = None
        if tls_port:
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                            "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", f"{tmp}/key.pem",
                            "-out", f"{tmp}/cert.pem"], check=True, capture_output=True, timeout=60)
            tls = (tls_port, f"{tmp}/cert.pem", f"{tmp}/key.pem")
        Path(tmp, "snippet.conf").write_text(render_snippet(), encoding="utf-8")
        site = render(port, upstream_url.split("://", 1)[1], f"{tmp}/snippet.conf", tls=tls)
        Path(tmp, "stationmap.conf").write_text(site, encoding="utf-8")
        user = "user root root;" if os.geteuid() == 0 else ""
        Path(tmp, "nginx.conf").write_text(MAIN.format(tmp=tmp, user=user), encoding="utf-8")
        command = [binary, "-p", tmp, "-e", f"{tmp}/error.log", "-c", f"{tmp}/nginx.conf"]
        check = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30, check=False)
        assert check.returncode == 0, check.stderr
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"nginx did not start:\n{Path(tmp, 'error.log').read_text()}") from None
                    time.sleep(0.2)
            yield (url, f"https://127.0.0.1:{tls_port}", f"{tmp}/cert.pem") if tls_port else url
        finally:
            process.terminate()
            process.wait(timeout=20)
