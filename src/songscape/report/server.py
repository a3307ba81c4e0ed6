"""`songscape map --serve`: the map over a local HTTP server, so that its search box can ask for
lyric search by meaning (e5 runs in Python, not in the page). Only the run's report files and
its tracks' audio files are served, on the loopback address by default."""

from __future__ import annotations

import json
import mimetypes
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlparse

import pandas as pd

from songscape.library import LibraryError
from songscape.report.explorer import MAP_FILE
from songscape.search import search_lyrics
from songscape.workspace import Workspace

SEARCH_PATH = "/songscape-search"  # the page asks GET SEARCH_PATH?q=TEXT&k=N
SEARCH_RESULTS = 20


def _servable(run_dir: Path) -> set[Path]:
    """The files the server may send: the report's and the run's audio files."""
    workspace = Workspace(run_dir)
    files = {path.resolve() for path in workspace.report_dir.iterdir() if path.is_file()}
    paths = pd.read_parquet(workspace.tracks)["path"].fillna("").astype(str)
    return files | {Path(path).resolve() for path in paths if path}


def _handler(run_dir: Path, servable: set[Path]) -> type[BaseHTTPRequestHandler]:
    class MapHandler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet: the command prints the address
            pass

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 (the http.server interface)
            url = urlparse(self.path)
            if url.path == SEARCH_PATH:
                query = parse_qs(url.query)
                try:
                    found = search_lyrics(run_dir, query.get("q", [""])[0],
                                          int(query.get("k", [SEARCH_RESULTS])[0]))
                    body = {"track_ids": list(found["track_id"]), "similarity": list(found["similarity"])}
                except LibraryError as error:
                    body = {"track_ids": [], "error": str(error)}
                self._send(200, json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json")
                return
            file = Path(unquote(url.path)).resolve()
            if file not in servable or not file.is_file():
                self._send(404, b"not part of this run", "text/plain")
                return
            content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            self._send(200, file.read_bytes(), content_type)

    return MapHandler


def start_map_server(run_dir: Path, host: str = "127.0.0.1", port: int = 8765) -> tuple[ThreadingHTTPServer, str]:
    """Serve the run's map in a background thread; returns the server and the map's address
    (port 0: any free port)."""
    run_dir = Path(run_dir).absolute()  # the page's relative audio links were made from this path
    try:
        server = ThreadingHTTPServer((host, port), _handler(run_dir, _servable(run_dir)))
    except OSError as error:
        raise LibraryError(f"cannot serve the map on {host}:{port}: {error.strerror}; choose another --port") from None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = f"http://{host}:{server.server_address[1]}{quote(str(Workspace(run_dir).report_dir / MAP_FILE))}"
    return server, address
