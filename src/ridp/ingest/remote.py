"""Pulling a dataset from an open-data portal, safely.

Only ``https://`` URLs. Every host name is resolved first and every address it
resolves to must be public: private, loopback, link-local, multicast, reserved and
unspecified addresses are refused, after DNS and again after every redirect, and
the connection goes to the address that was checked (no second lookup to rebind).
Socrata's API (``/resource/xxxx-xxxx.json`` or ``.csv``) is paged with
``$limit``/``$offset`` in a stable ``:id`` order and resumes where an interrupted
pull stopped. Tests reach a fake portal on loopback only through
:func:`_allow_addresses_for_tests`, which no setting can turn on.

Examples
--------
``pull("https://data.cityofchicago.org/resource/7as2-ds3y.json", folder)``
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import json
import re
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from ridp.errors import FieldError, RidpError

__all__ = ["MAX_BYTES", "PullResult", "RemoteError", "pull"]

MAX_BYTES = 5_000_000_000
MAX_REDIRECTS = 5
PAGE_ROWS = 50_000
_SOCRATA = re.compile(r"^/resource/[a-z0-9]{4}-[a-z0-9]{4}\.(json|csv)$")
_test_allowed: set[ipaddress.IPv4Address | ipaddress.IPv6Address] = set()
_test_context: ssl.SSLContext | None = None


class RemoteError(RidpError):
    """A portal could not be reached or answered wrongly; the message says which URL."""


@dataclass(frozen=True)
class PullResult:
    """What a pull wrote, and from where."""

    path: Path
    url: str
    pages: int
    rows: int | None  # Socrata pulls count rows; plain downloads do not


@contextlib.contextmanager
def _allow_addresses_for_tests(addresses: set[str], context: ssl.SSLContext) -> Iterator[None]:
    """Let a test fixture reach its own fake portal (never used outside tests)."""
    global _test_context
    parsed = {ipaddress.ip_address(a) for a in addresses}
    _test_allowed.update(parsed)
    _test_context = context
    try:
        yield
    finally:
        _test_allowed.difference_update(parsed)
        _test_context = None


def _check_url(url: str) -> tuple[str, int, str, str]:
    """(host, port, path with query, the checked address) or a FieldError/RemoteError."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise FieldError("url", f"{url!r}: only https:// URLs are pulled")
    if not parts.hostname:
        raise FieldError("url", f"{url!r} names no host")
    if parts.username or parts.password:
        raise FieldError("url", "credentials in the URL are not accepted")
    port = parts.port or 443
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise RemoteError(f"{parts.hostname}: cannot resolve the name ({exc.strerror})") from None
    addresses = {ipaddress.ip_address(info[4][0]) for info in infos}
    for address in addresses:
        if address in _test_allowed:
            continue
        if (
            address.is_private or address.is_loopback or address.is_link_local or address.is_multicast
            or address.is_reserved or address.is_unspecified
            or (isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None and not address.ipv4_mapped.is_global)
        ):  # fmt: skip
            raise FieldError("url", f"{parts.hostname} resolves to {address}, a private or local address: refused")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.hostname, port, path, str(sorted(addresses, key=str)[0])


def _open(url: str, timeout: float) -> tuple[http.client.HTTPResponse, str]:
    """GET ``url`` following redirects, each target checked like the first."""
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        host, port, path, address = _check_url(current)
        context = _test_context or ssl.create_default_context()
        conn = http.client.HTTPSConnection(address, port, timeout=timeout, context=context)
        # Connect to the checked address, but verify the certificate for the name.
        conn.sock = context.wrap_socket(
            socket.create_connection((address, port), timeout=timeout), server_hostname=host
        )
        conn.request(
            "GET",
            path,
            headers={"Host": host if port == 443 else f"{host}:{port}", "User-Agent": "ridp", "Accept": "*/*"},
        )
        response = conn.getresponse()
        if response.status in (301, 302, 303, 307, 308):
            location = response.getheader("Location")
            response.close()
            if not location:
                raise RemoteError(f"{current}: redirect without a location")
            current = urljoin(current, location)
            continue
        if response.status != 200:
            response.close()
            raise RemoteError(f"{current}: the portal answered {response.status} {response.reason}")
        return response, current
    raise RemoteError(f"{url}: more than {MAX_REDIRECTS} redirects")


def _copy(response: http.client.HTTPResponse, out: object, budget: int, url: str) -> int:
    written = 0
    while chunk := response.read(1 << 20):
        written += len(chunk)
        if written > budget:
            raise RemoteError(f"{url}: larger than {MAX_BYTES:,} bytes")
        out.write(chunk)  # type: ignore[attr-defined]
    return written


def pull(url: str, folder: Path, *, timeout: float = 60.0, progress: Callable[[int], None] | None = None) -> PullResult:
    """Download ``url`` into ``folder`` (Socrata resources page by page, resumably)."""
    parts = urlsplit(url)
    folder.mkdir(parents=True, exist_ok=True)
    if _SOCRATA.match(parts.path or ""):
        return _pull_socrata(url, folder, timeout, progress)
    _check_url(url)
    name = Path(parts.path).name or "download"
    target = folder / re.sub(r"[^A-Za-z0-9._-]", "_", name)
    partial = target.with_name(target.name + ".part")
    response, final = _open(url, timeout)
    with response, partial.open("wb") as out:
        size = _copy(response, out, MAX_BYTES, final)
    partial.replace(target)
    if progress:
        progress(size)
    return PullResult(target, url, 1, None)


def _pull_socrata(url: str, folder: Path, timeout: float, progress: Callable[[int], None] | None) -> PullResult:
    parts = urlsplit(url)
    kind = parts.path.rsplit(".", 1)[1]
    target = folder / (Path(parts.path).stem + (".ndjson" if kind == "json" else ".csv"))
    state_path = target.with_name(target.name + ".state.json")
    partial = target.with_name(target.name + ".part")
    state: dict[str, Any] = {"url": url, "offset": 0, "pages": 0, "bytes": 0}
    if state_path.exists() and partial.exists():
        saved = json.loads(state_path.read_text())
        if saved.get("url") == url:
            state = saved
            with partial.open("r+b") as fh:  # drop whatever came after the last whole page
                fh.truncate(int(state["bytes"]))
    else:
        partial.write_bytes(b"")
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"
    while True:
        query = urlencode({"$limit": PAGE_ROWS, "$offset": state["offset"], "$order": ":id"})
        response, final = _open(f"{base}?{query}", timeout)
        with response:
            body = response.read(MAX_BYTES + 1)
        if len(body) > MAX_BYTES:
            raise RemoteError(f"{final}: a page larger than {MAX_BYTES:,} bytes")
        if kind == "json":
            try:
                rows = json.loads(body)
            except json.JSONDecodeError as exc:
                raise RemoteError(f"{final}: the portal sent JSON that does not parse ({exc.msg})") from None
            if not isinstance(rows, list):
                raise RemoteError(f"{final}: expected a list of records")
            chunk = b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in rows)
            count = len(rows)
        else:
            lines = body.splitlines(keepends=True)
            header, data = (lines[0], lines[1:]) if lines else (b"", [])
            chunk = (header if state["offset"] == 0 else b"") + b"".join(data)
            count = len(data)
        with partial.open("ab") as out:
            out.write(chunk)
        state["offset"] = int(state["offset"]) + count
        state["pages"] = int(state["pages"]) + 1
        state["bytes"] = partial.stat().st_size
        state_path.write_text(json.dumps(state))
        if progress:
            progress(int(state["offset"]))
        if count < PAGE_ROWS:
            break
    partial.replace(target)
    state_path.unlink(missing_ok=True)
    return PullResult(target, url, int(state["pages"]), int(state["offset"]))
