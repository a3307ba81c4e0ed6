"""The interactive map and the report in headless Chromium (Debian's `chromium`, driven by
Playwright): no console errors, one marker per track, colours follow the selector, a click
plays the track, a hostile title stays text. Screenshots go to $SONGSCAPE_SCREENSHOTS (default:
the test's temporary folder)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from songscape.cli import app

CHROMIUM = Path("/usr/bin/chromium")
HOSTILE = "<img src=x onerror=alert(1)>"
CONFIG = """preset: easy
seeds: [0]
representations: [{name: pca, kind: pca, params: {n_components: 4}}]
lyrics: {method: tfidf, n_components: 4, min_df: 1}
"""
runner = CliRunner()


@pytest.fixture(scope="module")
def run_dir(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run on the tiny corpus whose first title is an HTML injection attempt."""
    scratch = tmp_path_factory.mktemp("browser")
    table = pd.read_csv(tiny_corpus, keep_default_na=False)
    table.loc[0, "title"] = HOSTILE
    hostile_table = tiny_corpus.parent / "hostile.csv"
    table.to_csv(hostile_table, index=False)
    (scratch / "run.yaml").write_text(CONFIG, encoding="utf-8")
    result = runner.invoke(app, ["run", "--audio", str(tiny_corpus.parent), "--table", str(hostile_table),
                                 "--k", "4", "--config", str(scratch / "run.yaml"),
                                 "--workspace", str(scratch / "run")])
    assert result.exit_code == 0, result.output
    return scratch / "run"


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium), "
                    "as .ci/run does")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--mute-audio",
                  "--autoplay-policy=no-user-gesture-required", "--disable-background-networking"])
        yield browser
        browser.close()


def _screenshot_dir(tmp_path: Path) -> Path:
    directory = Path(os.environ.get("SONGSCAPE_SCREENSHOTS", tmp_path))
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def test_map_plays_tracks_and_escapes_titles(run_dir: Path, browser, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    dialogs: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto((run_dir / "report" / "map.html").as_uri())
    markers = page.locator("circle.marker")
    assert markers.count() == 16

    fills_by_cluster = [markers.nth(i).get_attribute("fill") for i in range(16)]
    page.select_option("#colour", "style")
    fills_by_style = [markers.nth(i).get_attribute("fill") for i in range(16)]
    assert fills_by_style != fills_by_cluster and None not in fills_by_style
    assert len(set(fills_by_style)) == pd.read_parquet(run_dir / "tracks.parquet")["style"].nunique()

    page.evaluate("window.played = false; document.getElementById('player')"
                  ".addEventListener('play', () => { window.played = true; })")
    playable = page.evaluate("data.points.findIndex(p => /\\.(wav|flac)$/.test(p.audio))")
    markers.nth(playable).click()
    page.wait_for_function("window.played === true", timeout=15000)
    source = page.eval_on_selector("#player", "player => player.src")
    expected = page.evaluate(f"new URL(data.points[{playable}].audio, location.href).href")
    assert source == expected and Path(expected.removeprefix("file://")).is_file()
    assert page.eval_on_selector("#player", "player => player.paused") is False

    hostile = page.evaluate("data.points.findIndex(p => p.title.startsWith('<img'))")
    markers.nth(hostile).hover()
    assert HOSTILE in page.inner_text("#tooltip")
    page.fill("#search", "onerror")
    assert page.inner_text("#count") == "1 of 16 tracks"
    assert page.locator("img").count() == 0 and dialogs == []
    page.fill("#search", "")
    page.select_option("#colour", "cluster")
    directory = _screenshot_dir(tmp_path)
    page.screenshot(path=str(directory / "map.png"), full_page=True)
    assert errors == []


def test_report_opens_without_errors(run_dir: Path, browser, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto((run_dir / "report" / "index.html").as_uri())
    assert page.locator("h1").inner_text().startswith("songscape report")
    assert page.locator("img").count() >= 2  # metric bars and a map, inlined
    assert HOSTILE not in (run_dir / "report" / "index.html").read_text(encoding="utf-8")
    page.screenshot(path=str(_screenshot_dir(tmp_path) / "index.png"), full_page=True)
    assert errors == []


def test_map_and_report_rebuild_from_artifacts(run_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    shutil.rmtree(copy / "models")  # rebuilding reads embeddings and labels, never models
    (copy / "report" / "map.html").unlink()
    result = runner.invoke(app, ["map", str(copy), "--representation", "pca", "--embed-audio"])
    assert result.exit_code == 0, result.output
    page = (copy / "report" / "map.html").read_text(encoding="utf-8")
    assert "data:audio/ogg;base64," in page and "<img src=x" not in page
    result = runner.invoke(app, ["map", str(copy), "--representation", "nope"])
    assert result.exit_code == 2 and "no representation 'nope' in this run (known: pca" in result.output
    (copy / "report" / "index.html").unlink()
    result = runner.invoke(app, ["report", str(copy)])
    assert result.exit_code == 0 and (copy / "report" / "index.html").exists(), result.output
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["report", str(tmp_path / "empty")])
    assert result.exit_code == 2 and "not a finished songscape run" in result.output
    result = runner.invoke(app, ["report", str(tmp_path / "absent")])
    assert result.exit_code == 2 and "no such run folder" in result.output and not (tmp_path / "absent").exists()


@pytest.mark.parametrize("width", [1400, 1024])
def test_map_fits_the_window_without_a_horizontal_scrollbar(run_dir: Path, browser, width: int) -> None:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto((run_dir / "report" / "map.html").as_uri())
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    player = page.eval_on_selector("#player", "player => player.getBoundingClientRect().right")
    assert overflow <= 0 and player <= width


def test_a_cluster_card_opens_from_the_legend(run_dir: Path, browser, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto((run_dir / "report" / "map.html").as_uri())
    assert page.locator("#card").is_hidden()
    entry = page.locator("#legend div.clickable").first
    cluster = entry.inner_text().split(" (")[0]
    entry.click()
    card = page.locator("#card")
    assert card.is_visible() and card.locator("h3").inner_text().startswith(cluster)
    size = int(entry.inner_text().split("(")[-1].rstrip(")"))
    assert card.inner_text().count("\u25B6") >= 1 and f"{size} tracks" in card.inner_text()
    assert "language" in card.inner_text()  # the label mix
    page.evaluate("window.played = false; document.getElementById('player')"
                  ".addEventListener('play', () => { window.played = true; })")
    card.locator("li.typical").first.click()
    page.wait_for_function("window.played === true", timeout=15000)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0 and errors == []
    page.screenshot(path=str(_screenshot_dir(tmp_path) / "map-card.png"), full_page=True)
    report = browser.new_page()
    report.goto((run_dir / "report" / "index.html").as_uri())
    assert report.locator("section.card").count() == len(page.evaluate("Object.keys(data.cards)"))


def test_the_served_map_searches_lyrics_by_meaning(browser, tmp_path: Path) -> None:
    """`songscape map --serve`: the search box finds the Bangla and the English lyric about a
    storm at night for an English query that matches no title; files outside the run are refused."""
    import urllib.error
    import urllib.request

    from songscape.report.server import start_map_server
    from tests.test_search import write_lyrics_run

    server, address = start_map_server(write_lyrics_run(tmp_path), port=0)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(address)
        assert "lyrics" in page.inner_text("#search-label")
        page.fill("#search", "storm clouds and thunder all night long")
        page.wait_for_function("() => document.getElementById('count').textContent === '2 of 8 tracks'",
                               timeout=30000)
        visible = page.evaluate("data.points.filter((p, i) => markers[i].style.display !== 'none').map(p => p.id)")
        assert set(visible) == {"en-rain", "bn-rain"}
        outside = address.rsplit("/report/", 1)[0] + "/run.yaml"
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(outside.replace("/run/run.yaml", "/run.yaml"))
    finally:
        server.shutdown()


def test_the_served_map_plays_and_seeks_under_its_policy(run_dir: Path, browser) -> None:
    """Served with its Content-Security-Policy, the map runs without errors, plays a track and
    can seek in it (the server answers Range requests)."""
    from songscape.report.server import start_map_server

    server, address = start_map_server(run_dir, port=0)
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(address)
        page.evaluate("window.played = false; document.getElementById('player')"
                      ".addEventListener('play', () => { window.played = true; })")
        playable = page.evaluate("data.points.findIndex(p => /\\.(wav|flac)$/.test(p.audio))")
        page.locator("circle.marker").nth(playable).click()
        page.wait_for_function("() => window.played === true", timeout=15000)
        page.wait_for_function("() => document.getElementById('player').seekable.length > 0", timeout=15000)
        end = page.evaluate("document.getElementById('player').seekable.end(0)")
        assert end > 2.0
        page.evaluate("window.seeked = false; const player = document.getElementById('player'); "
                      "player.addEventListener('seeked', () => { window.seeked = true; }); player.currentTime = 2.0")
        page.wait_for_function("() => window.seeked === true", timeout=15000)
        assert page.evaluate("document.getElementById('player').currentTime") >= 1.9
        assert errors == []
    finally:
        server.shutdown()


def test_the_served_map_makes_a_mix_and_a_path(run_dir: Path, browser) -> None:
    """Served, the map makes a mix from the playing track and, for two shift-clicked points, a
    path from the first to the second: listed beside the map and drawn as a line through them."""
    from songscape.report.server import start_map_server

    server, address = start_map_server(run_dir, port=0)
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(address)
        markers = page.locator("circle.marker")
        markers.nth(0).click()
        page.click("#mix-button")
        page.wait_for_function("() => document.querySelectorAll('#journey li').length === 16", timeout=30000)
        mix_ids = page.evaluate("[...document.querySelectorAll('#journey li')].map(li => li.textContent)")
        assert mix_ids[0] == page.evaluate("data.points[0].title") and len(set(mix_ids)) == 16
        markers.nth(2).click(modifiers=["Shift"])
        markers.nth(5).click(modifiers=["Shift"])
        page.wait_for_function("() => document.querySelectorAll('#journey li').length === 12", timeout=30000)
        titles = page.evaluate("[...document.querySelectorAll('#journey li')].map(li => li.textContent)")
        assert titles[0] == page.evaluate("data.points[2].title") and titles[-1] == page.evaluate("data.points[5].title")
        assert len(page.evaluate("document.getElementById('route').getAttribute('points')").split()) == 12
        assert errors == []
    finally:
        server.shutdown()
