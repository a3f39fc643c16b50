"""Portal pulls against a fake portal on loopback, reachable only through a test fixture."""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest

from ridp.errors import FieldError
from ridp.ingest import remote

RECORDS = [
    {"id": str(i), "type": "pothole" if i % 2 else "noise", "opened": f"2024-01-{1 + i % 28:02d}T10:00:00"}
    for i in range(25)
]


class Portal(BaseHTTPRequestHandler):
    offsets: ClassVar[list[int]] = []
    fail_once_at: int | None = None

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path.startswith("/resource/"):
            offset, limit = int(q["$offset"]), int(q["$limit"])
            assert q["$order"] == ":id"
            Portal.offsets.append(offset)
            if Portal.fail_once_at == offset:
                Portal.fail_once_at = None
                return self._send(500, b"busy")
            page = RECORDS[offset : offset + limit]
            if parts.path.endswith(".json"):
                return self._send(200, json.dumps(page).encode())
            lines = ["id,type,opened"] + [f"{r['id']},{r['type']},{r['opened']}" for r in page]
            return self._send(200, ("\n".join(lines) + "\n").encode())
        if parts.path == "/files/requests.csv":
            return self._send(200, b"id,type\n1,pothole\n2,noise\n")
        if parts.path == "/moved":
            return self._send(302, headers={"Location": "/files/requests.csv"})
        if parts.path == "/to-metadata":
            return self._send(302, headers={"Location": "https://169.254.169.254/latest/meta-data/"})
        if parts.path == "/to-http":
            return self._send(302, headers={"Location": "http://example.org/x.csv"})
        return self._send(404)


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    server = ThreadingHTTPServer(("127.0.0.1", 0), Portal)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    server.socket = server_ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    client_ctx = ssl.create_default_context(cafile=str(cert))
    yield f"https://127.0.0.1:{server.server_address[1]}", client_ctx
    server.shutdown()
    server.server_close()


@pytest.fixture
def allowed(portal, monkeypatch):
    base, ctx = portal
    monkeypatch.setattr(remote, "PAGE_ROWS", 10)
    Portal.offsets = []
    with remote._allow_addresses_for_tests({"127.0.0.1"}, ctx):
        yield base


def test_socrata_json_is_paged_in_a_stable_order(allowed, tmp_path):
    result = remote.pull(f"{allowed}/resource/abcd-1234.json", tmp_path)
    assert (result.pages, result.rows) == (3, 25) and Portal.offsets == [0, 10, 20]
    rows = [json.loads(line) for line in result.path.read_text().splitlines()]
    assert [r["id"] for r in rows] == [str(i) for i in range(25)]


def test_socrata_csv_keeps_one_header(allowed, tmp_path):
    result = remote.pull(f"{allowed}/resource/abcd-1234.csv", tmp_path)
    lines = result.path.read_text().splitlines()
    assert lines[0] == "id,type,opened" and len(lines) == 26


def test_an_interrupted_pull_resumes_from_the_last_whole_page(allowed, tmp_path):
    Portal.fail_once_at = 20
    with pytest.raises(remote.RemoteError, match="500"):
        remote.pull(f"{allowed}/resource/abcd-1234.json", tmp_path)
    assert Portal.offsets == [0, 10, 20]
    Portal.offsets = []
    result = remote.pull(f"{allowed}/resource/abcd-1234.json", tmp_path)
    assert Portal.offsets == [20] and result.rows == 25
    assert len(result.path.read_text().splitlines()) == 25


def test_plain_file_and_redirect(allowed, tmp_path):
    assert remote.pull(f"{allowed}/files/requests.csv", tmp_path).path.read_text().startswith("id,type")
    assert remote.pull(f"{allowed}/moved", tmp_path / "b").path.read_bytes() == b"id,type\n1,pothole\n2,noise\n"


@pytest.mark.parametrize(
    ("path", "message"),
    [("/to-metadata", "169.254.169.254, a private or local address"), ("/to-http", "only https")],
)
def test_redirects_are_checked_like_the_first_url(allowed, tmp_path, path, message):
    with pytest.raises(FieldError, match=message):
        remote.pull(f"{allowed}{path}", tmp_path)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://data.example.org/x.csv", "only https"),
        ("file:///etc/passwd", "only https"),
        ("https://127.0.0.1/x.csv", "127.0.0.1, a private or local address"),
        ("https://localhost/x.csv", "a private or local address"),
        ("https://10.1.2.3/x.csv", "10.1.2.3, a private or local address"),
        ("https://[::1]/x.csv", "::1, a private or local address"),
        ("https://user:pw@data.example.org/x.csv", "credentials"),
    ],
)
def test_unsafe_urls_are_refused_without_the_test_fixture(tmp_path, url, message):
    with pytest.raises(FieldError, match=message):
        remote.pull(url, tmp_path)
