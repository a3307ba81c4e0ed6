"""`songscape map --serve`: the map over a local HTTP server, so that its search box can ask for
lyric search by meaning (e5 runs in Python, not in the page) and it can ask for a mix from a
track and a path between two (`songscape.journeys`).

What it serves, and nothing else: regular files inside the run's report folder (paths resolved,
so a link out of the folder is refused) and the audio files of the run's tracks (by an audio
file type), with `Range` requests so the player can seek. Requests must name the address the
server binds in their `Host` header (no DNS rebinding). Every answer carries
``X-Content-Type-Options: nosniff``; pages carry a Content-Security-Policy that allows only their
own inline scripts (by hash), their data, and requests back to this server. A bad request gets a
4xx answer, never a dropped connection.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import mimetypes
import os
import re
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote_to_bytes, urlparse

from songscape.library import LibraryError, SavedRun
from songscape import journeys
from songscape.filenames import file_path
from songscape.report.explorer import MAP_FILE
from songscape.scan import AUDIO_EXTENSIONS, unusable_file
from songscape.search import search_lyrics
from songscape.sound_search import search_sound
from songscape.workspace import Workspace

SEARCH_PATH = "/songscape-search"  # the page asks GET SEARCH_PATH?q=TEXT&k=N (&sound=1: by sound)
MIX_PATH = "/songscape-mix"  # GET MIX_PATH?track=ID&n=N&r=REPRESENTATION
SONG_PATH = "/songscape-path"  # GET SONG_PATH?a=ID&b=ID&n=N&r=REPRESENTATION
_JSON_PATHS = (SEARCH_PATH, MIX_PATH, SONG_PATH)
MIX_TRACKS, PATH_TRACKS = 25, 12
SEARCH_RESULTS = 20
MAX_QUERY_CHARACTERS = 500  # a search box query; e5 time grows with its length
_COPY_CHUNK = 1 << 16
_RANGE = re.compile(r"bytes=([0-9]*)-([0-9]*)")
_DIGITS = re.compile(r"[0-9]{1,9}")  # ASCII digits only: "²" is a digit to str.isdigit, not to int()
_LARGEST_OFFSET = 10**18  # a byte offset with more digits is past the end of any file
MAX_QUERY_FIELDS = 10
_BLANK_LINES_SKIPPED = 4
_MAX_LINE = 65537  # what http.server reads of a request line
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)  # executable: no type attribute
_CHARSET_TYPES = ("text/", "application/json")


class BadRequest(ValueError):
    """A request the server refuses; ``status`` is the 4xx answer."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


def content_security_policy(page: str) -> str:
    """The policy for an HTML page: its own inline scripts (sha256 of each), inline styles,
    images and clips as data, audio and search requests from this server only."""
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(script.encode('utf-8')).digest()).decode('ascii')}'"
                      for script in _INLINE_SCRIPT.findall(page)) or "'none'"
    return (f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; "
            "img-src data:; media-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive byte range a ``Range`` header asks of a file of ``size`` bytes; None for the
    whole file (no header, or one this server does not split, such as several ranges). A range
    that starts past the end raises `BadRequest` (416)."""
    match = _RANGE.fullmatch((header or "").strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = (None if text == "" else _offset(text) for text in match.groups())
    if first is None:  # the last N bytes
        start, end = max(0, size - last), size - 1
        if last == 0:
            start = size
    else:
        start, end = first, min(last, size - 1) if last is not None else size - 1
    if start >= size or start > end:
        raise BadRequest(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, f"range not satisfiable: {header}")
    return start, end


def _offset(digits: str) -> int:
    """A byte offset of a ``Range`` header; one too long to be real (thousands of digits, which
    int() refuses) is taken as past any end."""
    return int(digits) if len(digits) <= 18 else _LARGEST_OFFSET


def allowed_hosts(host: str, port: int) -> set[str]:
    """The ``Host`` header values a page served from ``host``:``port`` sends (lower case); a
    loopback address also answers to ``localhost``."""
    names = {f"[{host}]" if ":" in host else host}
    try:
        if ipaddress.ip_address(host).is_loopback:
            names.add("localhost")
    except ValueError:
        pass
    return {f"{name}:{port}".lower() for name in names}


class _RunFiles:
    """What the server may send of one run: files inside its report folder, and the audio files
    of the tracks that were decoded (by resolved path, each with the audio type of its own
    name), plus how many tracks a search may return."""

    def __init__(self, run_dir: Path) -> None:
        run = SavedRun.open(run_dir)
        self.report_dir = run.workspace.report_dir.resolve()
        decoded = run.tracks[(run.tracks["status"] == "ok") & run.tracks["path"].fillna("").astype(bool)]
        self.audio: dict[Path, str] = {}
        for stored in decoded["path"].astype(str):
            named = file_path(stored)
            if named.suffix.lower() in AUDIO_EXTENSIONS:
                self.audio[named.resolve()] = _audio_type(named.name)
        self.track_count = len(run.tracks)

    def file(self, url_path: str) -> tuple[Path, str]:
        """The file a URL path names and its content type; `BadRequest` (404) for anything else."""
        if "\x00" in url_path:
            raise BadRequest(HTTPStatus.BAD_REQUEST, "a NUL byte in the path")
        try:
            file = Path(url_path).resolve()
        except (OSError, RuntimeError, ValueError):
            raise BadRequest(HTTPStatus.BAD_REQUEST, "not a usable path") from None
        in_report = file.is_relative_to(self.report_dir)
        if not (in_report or file in self.audio) or unusable_file(file):
            raise BadRequest(HTTPStatus.NOT_FOUND, "not part of this run")
        if in_report:
            return file, mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return file, self.audio[file]


def _audio_type(name: str) -> str:
    """The content type of an audio file by its own name (the name the track was decoded under,
    not a link's target)."""
    guessed = mimetypes.guess_type(name)[0]
    return guessed if guessed and guessed.startswith("audio/") else "audio/ogg"


def _query_fields(query: str) -> dict[str, str]:
    """The fields of a request's query (the first value of each); `BadRequest` (400) for too
    many fields or text that is not UTF-8."""
    try:
        fields = parse_qs(query, max_num_fields=MAX_QUERY_FIELDS, errors="strict")
    except ValueError:
        raise BadRequest(HTTPStatus.BAD_REQUEST, f"at most {MAX_QUERY_FIELDS} fields, as UTF-8") from None
    return {name: values[0] for name, values in fields.items()}


def _text_field(fields: dict[str, str], name: str, what: str) -> str:
    """A required text field of at most `MAX_QUERY_CHARACTERS`; `BadRequest` (400) otherwise."""
    text = fields.get(name, "")
    if not text.strip():
        raise BadRequest(HTTPStatus.BAD_REQUEST, f"give {what} as {name}=")
    if len(text) > MAX_QUERY_CHARACTERS:
        raise BadRequest(HTTPStatus.BAD_REQUEST, f"{what} is longer than {MAX_QUERY_CHARACTERS} characters")
    return text


def _count_field(fields: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high`` (``default`` when absent); `BadRequest` (400) otherwise."""
    count = fields.get(name, str(default))
    if not _DIGITS.fullmatch(count) or not low <= int(count) <= high:
        raise BadRequest(HTTPStatus.BAD_REQUEST, f"{name} must be a whole number from {low} to {high}")
    return int(count)


def _search_arguments(query: str, track_count: int) -> tuple[str, int, bool]:
    """The text, the number of results and whether to search the sound (``sound=1``) of a
    search request; `BadRequest` (400) when one is missing, too long or out of range."""
    fields = _query_fields(query)
    text = _text_field(fields, "q", "the search text")
    if fields.get("sound", "0") not in ("0", "1"):
        raise BadRequest(HTTPStatus.BAD_REQUEST, "sound must be 0 or 1")
    return text, _count_field(fields, "k", min(SEARCH_RESULTS, track_count), 1, track_count), fields.get("sound") == "1"


def _journey(run_dir: Path, kind: str, query: str, track_count: int) -> list[str]:
    """The track ids of a mix (``track=ID&n=N``) or a path (``a=ID&b=ID&n=N``), in the
    representation ``r=NAME`` (default: the best); `BadRequest` (400) for missing or bad
    fields; a `LibraryError` when the run cannot make it."""
    fields = _query_fields(query)
    representation = fields.get("r") or None
    if kind == MIX_PATH:
        count = _count_field(fields, "n", min(MIX_TRACKS, track_count), 1, track_count)
        listed = journeys.mix(run_dir, _text_field(fields, "track", "the first track"), count,
                              representation=representation)
    else:
        count = _count_field(fields, "n", min(PATH_TRACKS, track_count), 2, track_count)
        listed = journeys.path(run_dir, _text_field(fields, "a", "the first track"),
                               _text_field(fields, "b", "the last track"), count, representation)
    return list(listed["track_id"])


def _handler(run_dir: Path, files: _RunFiles, hosts: set[str]) -> type[BaseHTTPRequestHandler]:
    class MapHandler(BaseHTTPRequestHandler):
        default_request_version = "HTTP/1.0"  # an HTTP/0.9-like request line gets a status line too

        def parse_request(self) -> bool:
            """The request line, after the empty lines a client may send before it (RFC 9112
            2.2); only empty lines is a bad request, answered, not a dropped connection."""
            for _ in range(_BLANK_LINES_SKIPPED):
                if self.raw_requestline.strip(b"\r\n"):
                    break
                self.raw_requestline = self.rfile.readline(_MAX_LINE)
            if not self.raw_requestline.strip():
                self.request_version, self.command = self.default_request_version, None
                self.send_error(HTTPStatus.BAD_REQUEST, "no request line")
                return False
            return super().parse_request()

        def log_message(self, *args: object) -> None:  # quiet: the command prints the address
            pass

        def _headers(self, status: int, content_type: str, length: int, extra: dict[str, str] | None = None) -> None:
            self.send_response(status)
            charset = "; charset=utf-8" if content_type.startswith(_CHARSET_TYPES) else ""
            self.send_header("Content-Type", content_type + charset)
            self.send_header("Content-Length", str(length))
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()

        def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
            self._headers(status, content_type, len(body), extra)
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, status: int, body: dict) -> None:
            self._send(status, json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json")

        def _search(self, query: str) -> None:
            text, count, sound = _search_arguments(query, files.track_count)
            try:
                if sound:
                    found, classes = search_sound(run_dir, text, count)
                    self._json(HTTPStatus.OK, {"track_ids": list(found["track_id"]), "classes": list(classes.index)})
                    return
                found = search_lyrics(run_dir, text, count)
            except LibraryError as error:  # the run cannot search (no lyrics or classes, no e5): the page says so
                self._json(HTTPStatus.OK, {"track_ids": [], "error": str(error)})
                return
            self._json(HTTPStatus.OK, {"track_ids": list(found["track_id"]),
                                       "similarity": [float(s) for s in found["similarity"]]})

        def _list(self, kind: str, query: str) -> None:
            try:
                track_ids = _journey(run_dir, kind, query, files.track_count)
            except LibraryError as error:  # an unknown track, a track without an embedding: the page says so
                self._json(HTTPStatus.OK, {"track_ids": [], "error": str(error)})
                return
            self._json(HTTPStatus.OK, {"track_ids": track_ids})

        def _file(self, url_path: str) -> None:
            file, content_type = files.file(url_path)
            if content_type == "text/html":
                page = file.read_bytes()
                policy = content_security_policy(page.decode("utf-8", errors="replace"))
                self._send(HTTPStatus.OK, page, content_type, {"Content-Security-Policy": policy})
                return
            size = file.stat().st_size
            extra = {"Accept-Ranges": "bytes"}
            try:
                wanted = byte_range(self.headers.get("Range"), size)
            except BadRequest:
                self._send(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, b"", "text/plain",
                           {**extra, "Content-Range": f"bytes */{size}"})
                return
            start, end = wanted or (0, size - 1)
            if wanted is not None:
                extra["Content-Range"] = f"bytes {start}-{end}/{size}"
            self._headers(HTTPStatus.PARTIAL_CONTENT if wanted else HTTPStatus.OK, content_type,
                          end - start + 1, extra)
            if self.command != "HEAD":
                with open(file, "rb") as handle:
                    handle.seek(start)
                    _copy(handle.read, self.wfile.write, end - start + 1)

        def _answer(self) -> None:
            host = (self.headers.get("Host") or "").strip().lower()
            if host not in hosts:
                raise BadRequest(HTTPStatus.FORBIDDEN, "this server answers only to " + ", ".join(sorted(hosts)))
            url = urlparse(self.path)
            if url.path == SEARCH_PATH:
                self._search(url.query)
            elif url.path in (MIX_PATH, SONG_PATH):
                self._list(url.path, url.query)
            else:
                self._file(os.fsdecode(unquote_to_bytes(url.path)))  # a file name's own bytes, UTF-8 or not

        def do_GET(self) -> None:  # noqa: N802 (the http.server interface)
            try:
                self._answer()
            except BadRequest as refusal:
                self._refuse(refusal.status, str(refusal))
            except ValueError:  # a malformed address (urlparse), text that is not UTF-8
                self._refuse(HTTPStatus.BAD_REQUEST, "a malformed request")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the player stopped reading (a seek): nothing to answer
            except Exception as error:  # noqa: BLE001 (answered, never a dropped connection)
                self._refuse(HTTPStatus.INTERNAL_SERVER_ERROR, f"internal error: {type(error).__name__}")

        do_HEAD = do_GET  # noqa: N815 (the http.server interface)

        def _refuse(self, status: int, message: str) -> None:
            if self.path.split("?", 1)[0] in _JSON_PATHS:  # not urlparse: it refuses some paths
                self._json(status, {"track_ids": [], "error": message})
            else:
                self._send(status, message.encode("utf-8"), "text/plain")

        def _not_allowed(self) -> None:
            self._send(HTTPStatus.METHOD_NOT_ALLOWED, b"only GET and HEAD", "text/plain", {"Allow": "GET, HEAD"})

        do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed  # noqa: N815

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            """What http.server answers itself (a bad request line or header, an unknown method
            such as PROPFIND): plain text with the same headers as every other answer; an
            unknown method is not allowed (405), not a server error."""
            self.close_connection = True
            if code == HTTPStatus.NOT_IMPLEMENTED:  # a method this server has no handler for
                self._not_allowed()
                return
            status = code if 400 <= code < 500 else HTTPStatus.BAD_REQUEST
            self._send(status, (message or HTTPStatus(status).phrase).encode("utf-8", "replace"), "text/plain")

    return MapHandler


def _copy(read: Callable[[int], bytes], write: Callable[[bytes], object], length: int) -> None:
    """Copy ``length`` bytes from ``read`` to ``write`` in chunks."""
    while length > 0:
        chunk = read(min(_COPY_CHUNK, length))
        if not chunk:
            return
        write(chunk)
        length -= len(chunk)


def start_map_server(run_dir: Path, host: str = "127.0.0.1", port: int = 8765) -> tuple[ThreadingHTTPServer, str]:
    """Serve the run's map in a background thread; returns the server and the map's address
    (port 0: any free port)."""
    run_dir = Path(run_dir).absolute()  # the page's relative audio links were made from this path
    files = _RunFiles(run_dir)
    try:
        server = ThreadingHTTPServer((host, port), BaseHTTPRequestHandler)
    except OSError as error:
        raise LibraryError(f"cannot serve the map on {host}:{port}: {error.strerror}; choose another --port") from None
    bound = server.server_address[1]
    server.daemon_threads = True  # a connection still open never keeps Ctrl-C from ending the command
    server.RequestHandlerClass = _handler(run_dir, files, allowed_hosts(host, bound))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    named = f"[{host}]" if ":" in host else host
    return server, f"http://{named}:{bound}{quote(str(Workspace(run_dir, create=False).report_dir / MAP_FILE))}"
