"""`songscape map --serve` serves the run's report and its tracks' audio and nothing else:
no link out of the report, no non-audio track path, no foreign Host; bad search arguments and
odd paths get a 4xx answer; audio answers Range requests; pages carry a charset and a policy."""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlparse

import pandas as pd
import pytest
from typer.testing import CliRunner

from songscape.cli import app
from songscape.report.server import MAX_QUERY_CHARACTERS, byte_range, start_map_server
from tests.conftest import PCA_RUN_CONFIG

runner = CliRunner()


@pytest.fixture(scope="module")
def run_dir(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run on the tiny corpus; then a link out of its report, and one track whose
    path was edited to name a text file."""
    scratch = tmp_path_factory.mktemp("server")
    (scratch / "run.yaml").write_text(PCA_RUN_CONFIG, encoding="utf-8")
    result = runner.invoke(app, ["run", "--audio", str(tiny_corpus.parent), "--table", str(tiny_corpus), "--k", "3",
                                 "--config", str(scratch / "run.yaml"), "--workspace", str(scratch / "run")])
    assert result.exit_code == 0, result.output
    run = scratch / "run"
    (scratch / "secret.txt").write_text("secret", encoding="utf-8")
    os.symlink(scratch / "secret.txt", run / "report" / "passwd.html")
    tracks = pd.read_parquet(run / "tracks.parquet")
    tracks.loc[len(tracks) - 1, "path"] = str(scratch / "secret.txt")
    # a link named like audio that points at a text file: the run skipped it as undecodable
    os.symlink(scratch / "secret.txt", scratch / "evil.ogg")
    tracks.loc[len(tracks) - 2, ["path", "status", "reason"]] = [str(scratch / "evil.ogg"), "skipped", "cannot decode"]
    tracks.to_parquet(run / "tracks.parquet", index=False)
    return run


@pytest.fixture(scope="module")
def server(run_dir: Path) -> Iterator[tuple[str, int, str]]:
    """The running server: host, port and the map's path."""
    httpd, address = start_map_server(run_dir, port=0)
    url = urlparse(address)
    yield url.hostname, url.port, url.path
    httpd.shutdown()


def _get(server: tuple[str, int, str], path: str, headers: dict[str, str] | None = None,
         method: str = "GET") -> http.client.HTTPResponse:
    host, port, _ = server
    connection = http.client.HTTPConnection(host, port, timeout=30)
    connection.request(method, path, headers={"Host": f"{host}:{port}", **(headers or {})})
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def _audio_path(run_dir: Path) -> Path:
    return Path(pd.read_parquet(run_dir / "tracks.parquet")["path"].iloc[0])


def test_the_map_has_a_charset_and_a_policy_that_admits_its_script(server) -> None:
    response = _get(server, server[2])
    assert response.status == 200 and response.getheader("Content-Type") == "text/html; charset=utf-8"
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    policy = response.getheader("Content-Security-Policy")
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert re.search(r"script-src 'sha256-[A-Za-z0-9+/=]{44}'", policy)


def test_only_report_files_and_audio_files_of_the_run(server, run_dir: Path) -> None:
    report = quote(str(run_dir / "report"))
    assert _get(server, f"{report}/index.html").status == 200
    assert _get(server, quote(str(_audio_path(run_dir)))).status == 200
    refused = [f"{report}/passwd.html",  # a link out of the report
               quote(str(run_dir.parent / "secret.txt")),  # a track's path that is not audio
               quote(str(run_dir / "run.json")), f"{report}/../run.json", "/etc/hostname", f"{report}/",
               quote(str(run_dir.parent / "evil.ogg")),  # a track that was not decoded, by its link
               "/%ff%fe"]
    for path in refused:
        response = _get(server, path)
        assert response.status == 404 and b"secret" not in response.body, path


@pytest.mark.parametrize("path", ["/x%00y", "/songscape-search?q=rain&k=abc", "/songscape-search?q=rain&k=-1",
                                  "/songscape-search?q=rain&k=0", "/songscape-search?q=rain&k=17",
                                  "/songscape-search?q=", f"/songscape-search?q={'a' * (MAX_QUERY_CHARACTERS + 1)}",
                                  "/songscape-search?q=rain&k=%C2%B2",  # a superscript two: a digit to isdigit()
                                  "/songscape-search?q=rain&k=2" + "&x=1" * 10,  # 12 fields
                                  "/songscape-search?q=%ff&k=2",  # not UTF-8
                                  "/songscape-search?q=rain&k=2&sound=yes"])
def test_bad_requests_get_an_answer(server, path: str) -> None:
    response = _get(server, path)
    assert response.status == 400, (path, response.body)


def test_a_mix_and_a_path_answer_with_track_ids(server) -> None:
    mixed = json.loads(_get(server, "/songscape-mix?track=demo-0001&n=5").body)
    assert len(mixed["track_ids"]) == 5 and mixed["track_ids"][0] == "demo-0001"
    route = json.loads(_get(server, "/songscape-path?a=demo-0001&b=demo-0002&n=4").body)
    assert route["track_ids"][0] == "demo-0001" and route["track_ids"][-1] == "demo-0002"
    assert "unknown track" in json.loads(_get(server, "/songscape-mix?track=nope").body)["error"]
    for bad in ("/songscape-mix?n=3", "/songscape-path?a=demo-0001&n=4", "/songscape-path?a=x&b=y&n=1",
                "/songscape-mix?track=demo-0001&n=%C2%B2"):
        assert _get(server, bad).status == 400, bad


def test_a_search_by_sound_on_a_run_without_classes_says_why(server) -> None:
    answer = json.loads(_get(server, "/songscape-search?q=flute&k=3&sound=1").body)
    assert answer["track_ids"] == [] and "no sound classes" in answer["error"]


def test_a_search_within_bounds_answers(server) -> None:
    response = _get(server, "/songscape-search?q=rain&k=16")
    assert response.status == 200 and response.getheader("Content-Type") == "application/json; charset=utf-8"


def test_a_foreign_host_is_refused(server) -> None:
    for host in ("attacker.example:80", "attacker.example", ""):
        assert _get(server, server[2], {"Host": host}).status == 403, host
    assert _get(server, server[2], {"Host": f"localhost:{server[1]}"}).status == 200


def test_other_methods_are_not_allowed(server) -> None:
    response = _get(server, server[2], method="POST")
    assert response.status == 405 and response.getheader("Allow") == "GET, HEAD"
    head = _get(server, server[2], method="HEAD")
    assert head.status == 200 and head.body == b"" and int(head.getheader("Content-Length")) > 0


def test_unknown_methods_are_not_allowed_as_plain_text(server) -> None:
    for method in ("PROPFIND", "BREW", "M-SEARCH"):
        response = _get(server, server[2], method=method)
        assert response.status == 405 and response.getheader("Content-Type") == "text/plain; charset=utf-8"
        assert response.getheader("X-Content-Type-Options") == "nosniff", method


def test_audio_answers_range_requests(server, run_dir: Path) -> None:
    audio = _audio_path(run_dir)
    content, path = audio.read_bytes(), quote(str(audio))
    whole = _get(server, path)
    assert whole.getheader("Accept-Ranges") == "bytes" and whole.body == content
    part = _get(server, path, {"Range": "bytes=10-19"})
    assert part.status == 206 and part.body == content[10:20]
    assert part.getheader("Content-Range") == f"bytes 10-19/{len(content)}"
    assert _get(server, path, {"Range": "bytes=-5"}).body == content[-5:]
    assert _get(server, path, {"Range": f"bytes={len(content) - 3}-"}).body == content[-3:]
    beyond = _get(server, path, {"Range": f"bytes={len(content)}-"})
    assert beyond.status == 416 and beyond.getheader("Content-Range") == f"bytes */{len(content)}"
    assert _get(server, path, {"Range": "bytes=" + "9" * 5000 + "-"}).status == 416
    assert _get(server, path, {"Range": "bytes=0-" + "9" * 5000}).body == content
    assert _get(server, path, {"Range": "bytes=-" + "9" * 5000}).body == content


def _raw_exchange(server, request: bytes) -> bytes:
    """Send raw bytes, read the whole answer (the server closes the connection after it)."""
    host, port, _ = server
    with socket.create_connection((host, port), timeout=30) as connection:
        connection.sendall(request)
        connection.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := connection.recv(1 << 16):
            answer += chunk
    return answer


def test_random_requests_never_get_a_server_error_or_a_dropped_connection(server) -> None:
    host, port, map_path = server
    rng = random.Random(0)

    def noise(limit: int) -> bytes:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(limit)))

    for attempt in range(200):
        path = rng.choice([map_path.encode(), b"/songscape-search", b"/songscape-mix", b"/songscape-path", b"/"])
        path += noise(40) if rng.random() < 0.5 else b""
        query = b"?" + rng.choice([b"q=", b"k=", b"q=rain&k=", b"track=demo-0001&n=", b"a=demo-0001&b=", b""]) \
            + noise(30) if rng.random() < 0.7 else b""
        headers = [b"Host: " + rng.choice([f"{host}:{port}".encode(), noise(20)])]
        headers += [noise(12) + b": " + noise(30) for _ in range(rng.randrange(4))]
        if rng.random() < 0.5:
            headers.append(b"Range: bytes=" + noise(12))
        method = rng.choice([b"GET", b"HEAD", b"GET", noise(8) or b"X"])
        request = method + b" " + path + query + b" HTTP/1.1\r\n" + b"\r\n".join(headers) + b"\r\n\r\n"
        answer = _raw_exchange(server, request)
        status = re.match(rb"HTTP/1\.[01] (\d{3}) ", answer)
        assert status, (attempt, request, answer[:200])
        assert int(status.group(1)) < 500, (attempt, request, answer[:300])


def test_byte_range_parsing() -> None:
    assert byte_range(None, 100) is None and byte_range("bytes=0-1,5-6", 100) is None
    assert byte_range("bytes=0-", 100) == (0, 99) and byte_range("bytes=90-200", 100) == (90, 99)
    assert byte_range("bytes=-200", 100) == (0, 99)


def test_the_map_command_serves_until_interrupted(run_dir: Path) -> None:
    command = [sys.executable, "-m", "songscape", "map", str(run_dir), "--serve", "--port", "0"]
    # started with SIGINT ignored, as children of a shell's background job (or of a test run) are
    ignoring = lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)  # noqa: E731
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               preexec_fn=ignoring)
    try:
        lines = [process.stdout.readline(), process.stdout.readline()]
        address = next(line.split()[4] for line in lines if line.startswith("serving the map at"))
        url = urlparse(address)
        response = _get((url.hostname, url.port, url.path), url.path)
        assert response.status == 200 and b"<svg" in response.body
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
