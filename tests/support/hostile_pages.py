"""A loopback server that pages hostile listings in the shape of every vendor's API.

Each listing is what a probe of the second review met, answered for any repository named
``probe/<mode>`` (the mode is read from the path, so one server serves every probe):

* ``repeat``: the same hundred records page after page, each page linking to a new one;
* ``growing``: twenty thousand new tags a page, without end;
* ``oversized``: a page whose body never ends;
* ``dense``: a page just under the vendor's byte cap, of the smallest records JSON can hold.

The records keep each vendor's documented shape (``vendor_apis`` has them with their sources);
only their number, and what the pages link to, are hostile.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.front import QuietServer

MODES = ("repeat", "growing", "oversized", "dense")
REPEATED = 100
GROWING = 10_000
CHAINGUARD_TAGS = ("1", "2", "3", "latest")
DIGEST = "sha256:" + "d" * 64
STAMP = "2024-03-18T12:00:00.000000Z"
HISTORY_START = datetime(2024, 3, 18, tzinfo=UTC)


def _digest(page: int, index: int) -> str:
    return "sha256:" + f"{page:032x}{index:032x}"


def _versions(names: list[str], page: int) -> list[dict[str, Any]]:
    return [
        {
            "id": index,
            "name": _digest(page, index),
            "updated_at": "2024-03-18T12:00:00Z",
            "metadata": {"package_type": "container", "container": {"tags": [name]}},
        }
        for index, name in enumerate(names)
    ]


def _artifacts(names: list[str], page: int) -> list[dict[str, Any]]:
    return [
        {
            "digest": _digest(page, index),
            "push_time": STAMP,
            "tags": [{"name": name, "push_time": STAMP}],
        }
        for index, name in enumerate(names)
    ]


def _tag_list(names: list[str], page: int) -> dict[str, Any]:
    manifest = {
        _digest(page, index): {"tag": [name], "timeUploadedMs": "1"}
        for index, name in enumerate(names)
    }
    return {"tags": names, "manifest": manifest}


PAGES: dict[str, Callable[[list[str], int, str], Any]] = {
    # Probe 3: tags without digests, as Hub gives them for older multi-platform tags.
    "dockerhub": lambda names, page, next_url: {
        "count": 10**9,
        "next": next_url,
        "results": [{"name": name, "tag_last_pushed": STAMP} for name in names],
    },
    "quay": lambda names, page, next_url: {
        "tags": [{"name": n, "manifest_digest": DIGEST, "start_ts": 1710763200} for n in names],
        "page": page,
        "has_additional": True,
    },
    "ghcr": lambda names, page, next_url: _versions(names, page),
    "harbor": lambda names, page, next_url: _artifacts(names, page),
    "acr": lambda names, page, next_url: {
        "tags": [{"name": n, "digest": DIGEST, "lastUpdateTime": STAMP} for n in names]
    },
    "gitlab": lambda names, page, next_url: [
        {"name": n, "digest": DIGEST, "published_at": STAMP} for n in names
    ],
    "google": lambda names, page, next_url: _tag_list(names, page),
    "oci": lambda names, page, next_url: {"tags": names},
}
"""Each vendor's page of ``names``: (names, page number, next page's address) -> document.
A page number of 0 gives the same digests every time."""


def _dense(vendor: str, limit: int) -> bytes:
    """A page of empty records, or of two-letter tags, just under ``limit`` bytes."""
    if vendor in {"oci", "google"}:
        opening, item, closing = b'{"tags":[', b'"aa",', b'"aa"]}'
    elif vendor in {"ghcr", "harbor", "gitlab"}:
        opening, item, closing = b"[", b"{},", b"{}]"
    else:
        key = {"dockerhub": "results", "chainguard": "history"}.get(vendor, "tags")
        opening, item, closing = b'{"' + key.encode() + b'":[', b"{},", b"{}]}"
    count = (limit - len(opening) - len(closing) - 64) // len(item)
    return opening + item * count + closing


class HostilePages:
    """The server; ``vendor`` says whose shape its pages take. Use as a context manager."""

    def __init__(self) -> None:
        self.vendor = "oci"
        self.requests = 0
        self._lock = threading.Lock()
        self._server = QuietServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def __enter__(self) -> HostilePages:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        pages = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                with pages._lock:
                    pages.requests += 1
                split = urlsplit(self.path)
                segments = split.path.split("/")
                mode = next((mode for mode in MODES if mode in segments), "repeat")
                number = int(parse_qs(split.query).get("page", ["1"])[0])
                vendor = pages.vendor
                if vendor == "chainguard":
                    if "/_chainguard/history/" not in split.path:
                        self._json({"tags": list(CHAINGUARD_TAGS)}, {})
                        return
                    if mode in {"repeat", "growing"}:
                        self._json(_history(mode, split.query), {})
                        return
                if mode == "oversized":
                    self._endless()
                    return
                if mode == "dense":
                    limit = {"oci": 16, "google": 16, "chainguard": 1}.get(vendor, 4) << 20
                    self._send(_dense(vendor, limit), {})
                    return
                if mode == "repeat":
                    names, page = [f"t{index}" for index in range(REPEATED)], 0
                else:
                    names, page = [f"p{number}-{index}" for index in range(GROWING)], number
                next_url = f"{pages.url}{split.path}?page={number + 1}"
                document = PAGES[vendor](names, page, next_url)
                self._json(document, {"Link": f'<{next_url}>; rel="next"'})

            def _json(self, document: Any, headers: dict[str, str]) -> None:
                self._send(json.dumps(document).encode(), headers)

            def _send(self, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:
                    self.close_connection = True

            def _endless(self) -> None:
                # No length: the body ends when the connection does, which the client ends.
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                chunk = b'{"name": "t", "digest": null},' * 2048
                try:
                    self.wfile.write(b'{"tags": [')
                    for _ in range(1024):  # 60 MiB at most, should the client read on
                        self.wfile.write(chunk)
                except OSError:
                    return

        return Handler


def _history(mode: str, query: str) -> dict[str, Any]:
    """A full page of Chainguard history records: the same ones again (``repeat``), or a
    thousand newer ones each time (``growing``), from ``start=`` on."""
    start = parse_qs(query).get("start", [""])[0]
    newest = HISTORY_START
    if start and mode == "growing":
        newest = datetime.fromisoformat(start.replace("Z", "+00:00"))
    return {
        "history": [
            {
                "updateTimestamp": (newest + timedelta(seconds=offset)).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"
                ),
                "digest": DIGEST,
            }
            for offset in range(1, 1001)
        ]
    }
