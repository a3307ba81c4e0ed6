"""Command line: `songscape demo`, `run`, and `report` / `map` / `similar` / `mix` / `path` /
`playlists` / `assign` / `update` / `search` on a finished run."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn, Optional, TypeVar

import pandas as pd
import typer

from songscape.cluster.algorithms import ClusteringError
from songscape.collection import CollectionError
from songscape.config import ConfigError, load_config, preset, with_overrides
from songscape.demo import DemoSettings, write_demo_corpus
from songscape.experiment import PipelineError
from songscape import journeys
from songscape.library import LibraryError, SavedRun, assign, write_playlist, write_playlists
from songscape.mpd_player import MpdResult, queue_tracks, store_playlists
from songscape.pipeline import CollectionSource, rebuild_map, rebuild_report, run_pipeline
from songscape.plaintext import PlainConsole, printable, styled
from songscape.report.figures import FigureSkipped
from songscape.report.paper import SECTION_FILE, STANDALONE_FILE, PaperError, compile_paper, write_paper
from songscape.report.server import start_map_server
from songscape.runners import DistributedError
from songscape.search import search_lyrics, similar
from songscape.sound_search import search_sound
from songscape.update import update_run
from songscape.workspace import RunFileError, make_folder

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Map and cluster music collections from audio and lyrics.")
# user text is printed as it is (no markup), control characters made visible; no wrapping when piped
console = PlainConsole(width=None if sys.stdout.isatty() else 160, soft_wrap=True)
DEFAULT_RUNS = Path("songscape-runs")
T = TypeVar("T")
_USER_ERRORS = (CollectionError, ConfigError, PipelineError, ClusteringError, LibraryError, DistributedError,
                FigureSkipped, PaperError, RunFileError, OSError)


class _WarningsToConsole(logging.Handler):
    """songscape's logged warnings (said once: `songscape.notices`) printed in the command's
    output, in order with the rest, as "warning: …"."""

    def emit(self, record: logging.LogRecord) -> None:
        console.print(styled(("warning", "yellow"), f": {record.getMessage()}"))


logging.getLogger("songscape").addHandler(_WarningsToConsole(logging.WARNING))


def _fail(error: Exception) -> NoReturn:
    console.print(styled(("error:", "red"), f" {_one_line(error)}"))
    raise typer.Exit(code=2)


def _one_line(error: Exception) -> str:
    """A user error as one line; a system error (a full disk, a file where a folder belongs)
    names its file and what the system said."""
    if isinstance(error, OSError) and error.strerror:
        named = " → ".join(str(name) for name in (error.filename, error.filename2) if name)
        return f"{named}: {error.strerror}" if named else error.strerror
    return printable(str(error), one_line=True)


def _print_table(table: pd.DataFrame) -> None:
    """A table of tracks as plain text, each cell on one line."""
    console.print(table.map(lambda value: printable(value, one_line=True) if isinstance(value, str) else value)
                  .to_string(index=False))


def _or_fail(call: Callable[[], T]) -> T:
    """The result of ``call``; a user error becomes one line and exit status 2."""
    try:
        return call()
    except _USER_ERRORS as error:
        _fail(error)


@app.command()
def demo(
    tracks: int = typer.Option(240, min=8, help="Number of demo tracks to generate."),
    seconds: float = typer.Option(10.0, min=2.0, help="Approximate length of each track."),
    seed: int = typer.Option(0, help="Seed of the corpus generator."),
    seeds: int = typer.Option(3, min=1, help="Number of training/clustering seeds."),
    workspace: Path = typer.Option(DEFAULT_RUNS / "demo", help="Run folder."),
    preset_name: str = typer.Option("easy", "--preset", help="easy, medium, hard or full."),
) -> None:
    """Generate the demo corpus (audio files + lyrics table) and run a preset (`easy`) on it."""
    started = time.perf_counter()
    corpus_dir = workspace / "corpus"
    table = write_demo_corpus(corpus_dir, DemoSettings(tracks=tracks, seconds=seconds, seed=seed))
    console.print(f"demo corpus: {tracks} tracks in {corpus_dir} "
                  f"({time.perf_counter() - started:.1f} s)")
    try:
        config = preset(preset_name, name="demo", seeds=list(range(seeds)), n_clusters=4,
                        label_columns=["style", "language"],
                        # a 10-s clip has no intro or outro to leave out: its centre, no track is shorter
                        audio={"excerpt": "centre", "excerpt_seconds": round(0.85 * seconds, 2)})
        console.print("k = 4: the number of styles the corpus was generated with")
        _, report = run_pipeline(config, CollectionSource(corpus_dir, table), workspace, console)
    except _USER_ERRORS as error:
        _fail(error)
    console.print(f"results: {workspace / 'results.csv'}")
    console.print(f"report:  {report}\nmap:     {report.with_name('map.html')}")
    console.print(f"demo finished in {time.perf_counter() - started:.1f} s")


@app.command()
def run(
    audio: Optional[Path] = typer.Option(None, help="Folder of audio files (searched recursively)."),
    table: Optional[Path] = typer.Option(None, help="Lyrics/metadata table: CSV, TSV, JSON or Parquet "
                                         "(alone: a lyrics-only collection)."),
    features: Optional[Path] = typer.Option(None, help="Precomputed feature table (CSV or Parquet): its "
                                            "numeric columns replace the extracted audio statistics."),
    beets: Optional[Path] = typer.Option(None, help="A beets library file (library.db): its items are the "
                                         "tracks, with their tags and lyrics, matched by path."),
    preset_name: str = typer.Option("easy", "--preset", help="Preset to start from."),
    config_file: Optional[Path] = typer.Option(None, "--config", help="YAML config (overrides --preset)."),
    name: Optional[str] = typer.Option(None, help="Run name (default: the audio folder's name)."),
    workspace: Optional[Path] = typer.Option(None, help="Run folder (default: songscape-runs/<name>)."),
    k: Optional[int] = typer.Option(None, "--k", min=2, help="Number of clusters (default: by silhouette)."),
    seeds: Optional[int] = typer.Option(None, min=1, help="Number of seeds (default: 3)."),
    id_column: Optional[str] = typer.Option(None, help="Column that names each track (its file, or its "
                                            "row in the feature table)."),
    lyrics_column: Optional[str] = typer.Option(None, help="Table column holding the lyrics."),
    label_columns: Optional[str] = typer.Option(None, "--label-columns", "--labels",
                                                help="Comma-separated label columns to score against "
                                                "(table columns or tags such as genre)."),
    exclude: Optional[list[str]] = typer.Option(None, help="Leave out files or folders matching this glob "
                                                "(e.g. '*.wav', 'Podcasts'); repeatable."),
    min_duration: Optional[float] = typer.Option(None, min=0, help="Skip files shorter than this (seconds)."),
    max_duration: Optional[float] = typer.Option(None, min=0, help="Skip files longer than this (seconds)."),
    scheduler: Optional[str] = typer.Option(None, help="Extract audio on this Dask scheduler "
                                            "(tcp://HOST:PORT; needs songscape[distributed])."),
    workers: Optional[int] = typer.Option(None, min=1, help="Extract audio on a local Dask cluster of "
                                          "N worker processes (needs songscape[distributed])."),
) -> None:
    """Run a preset or a config on your own collection: a folder of audio files, a lyrics /
    metadata table, a precomputed feature table, or any mix of them."""
    started = time.perf_counter()
    sources = [path for path in (audio, features, table, beets) if path is not None]
    if not sources:
        _fail(ValueError("give --audio FOLDER, --table FILE, --features FILE or --beets LIBRARY.db (or several)"))
    name = name or (audio.resolve().name if audio else sources[0].stem)
    overrides: dict[str, object] = {"name": name}
    if k is not None:
        overrides["n_clusters"] = k
    if seeds is not None:
        overrides["seeds"] = list(range(seeds))
    if label_columns is not None:
        overrides["label_columns"] = [c.strip() for c in label_columns.split(",") if c.strip()]
    try:
        config = load_config(config_file) if config_file else preset(preset_name)
        if scheduler or workers:
            overrides["distributed"] = {"scheduler": scheduler, "workers": workers}
        config = with_overrides(config, **overrides)
        source = CollectionSource(audio, table, id_column, lyrics_column, features, tuple(exclude or ()),
                                  (min_duration, max_duration), beets)
        _, report = run_pipeline(config, source, workspace or DEFAULT_RUNS / name, console)
    except _USER_ERRORS as error:
        _fail(error)
    console.print(f"report: {report}  ({time.perf_counter() - started:.1f} s)")


@app.command()
def report(
    run_dir: Path = typer.Argument(..., help="A run folder (songscape-runs/<name>)."),
    paper: bool = typer.Option(False, "--paper", help="Also write report/paper/: an experiments section for a "
                               "NeurIPS-style paper (compiled to main.pdf when pdflatex is installed)."),
) -> None:
    """Rebuild report/index.html and report/map.html of a finished run from its saved
    artifacts, without retraining anything; with --paper, the paper's experiments section too."""
    index, map_path = _or_fail(lambda: rebuild_report(run_dir))
    console.print(f"report: {index}\nmap:    {map_path}")
    if paper:
        folder = _or_fail(lambda: write_paper(run_dir))
        console.print(f"paper:  {folder / SECTION_FILE} (\\input it; {folder / STANDALONE_FILE} compiles it alone)")
        pdf = _or_fail(lambda: compile_paper(folder))
        console.print(f"pdf:    {pdf}" if pdf else "pdf:    not compiled: pdflatex is not installed "
                      "(Debian: apt-get install texlive-latex-recommended)")


@app.command("map")
def map_(
    run_dir: Path = typer.Argument(..., help="A run folder (songscape-runs/<name>)."),
    representation: Optional[str] = typer.Option(None, help="Representation to map (default: the best)."),
    algorithm: Optional[str] = typer.Option(None, help="Whose clusters to colour by (default: the best)."),
    embed_audio: bool = typer.Option(False, help="Embed 20-s Ogg clips instead of linking the files."),
    serve: bool = typer.Option(False, "--serve", help="Serve the map on this computer, so that its search box "
                               "also searches lyrics by meaning (Ctrl-C stops)."),
    port: int = typer.Option(8765, min=0, max=65535, help="Port for --serve (0: any free port)."),
) -> None:
    """Rebuild report/map.html, the interactive map that plays the tracks, from saved artifacts."""
    map_path = _or_fail(lambda: rebuild_map(run_dir, representation, algorithm, embed_audio))
    console.print(f"map: {map_path}")
    if serve:
        server, address = _or_fail(lambda: start_map_server(run_dir, port=port))
        console.print(f"serving the map at {address}  (Ctrl-C stops)")
        # Ctrl-C stops it even when started from a process that ignores SIGINT (which a child inherits);
        # short waits, as a signal is only handled when the main thread wakes
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            while not threading.Event().wait(0.5):
                pass
        except KeyboardInterrupt:
            server.shutdown()
            server.server_close()


def _lyrics_weight_option() -> typer.models.OptionInfo:
    """--lyrics-weight as `similar`, `mix` and `path` take it."""
    return typer.Option(0.0, min=0.0, max=1.0, help="Share of the lyrics' e5 similarity in the score "
                        "(0: sound only, 1: lyrics only).")


@app.command("similar")
def similar_(
    run_dir: Path = typer.Argument(..., help="A run folder (songscape-runs/<name>)."),
    track: str = typer.Argument(..., help="A track id of that run."),
    k: int = typer.Option(10, "-k", min=1, help="How many similar tracks."),
    representation: Optional[str] = typer.Option(None, help="Latent space to search (default: the best)."),
    lyrics_weight: float = _lyrics_weight_option(),
) -> None:
    """The tracks nearest to TRACK (cosine similarity in a saved run's latent space, mixed with
    the lyrics' similarity by --lyrics-weight)."""
    _print_table(_or_fail(lambda: similar(run_dir, track, k, representation, lyrics_weight)))


def _write_list(listed: pd.DataFrame, run_dir: Path, out: Optional[Path], title: str) -> None:
    """Print a mix or a path; with ``out``, also write it as an ``.m3u8`` playlist."""
    _print_table(listed)
    if out is not None:
        def write() -> int:
            tracks = SavedRun.open(run_dir).tracks.set_index("track_id", drop=False).loc[listed["track_id"]]
            return write_playlist(out, tracks, title)

        console.print(f"{out}  ({_or_fail(write)} tracks)")


@app.command("mix")
def mix_(
    run_dir: Path = typer.Argument(..., help="A run folder (songscape-runs/<name>)."),
    track: str = typer.Argument(..., help="The track id the mix starts with."),
    count: int = typer.Option(25, "-n", min=1, help="How many tracks (ignored with --minutes)."),
    minutes: Optional[float] = typer.Option(None, "--minutes", min=0.1, help="How much music instead: "
                                            "tracks until this many minutes."),
    representation: Optional[str] = typer.Option(None, help="Latent space to walk (default: the best)."),
    lyrics_weight: float = _lyrics_weight_option(),
    seed: int = typer.Option(0, min=0, help="Seed of the choices among the closest tracks: the same seed, "
                             "the same mix."),
    out: Optional[Path] = typer.Option(None, help="Also write the mix as this .m3u8 playlist."),
    mpd: bool = typer.Option(False, "--mpd", help="Add the mix to the queue of a running MPD."),
    mpd_address: Optional[str] = typer.Option(None, help="MPD's HOST:PORT or socket (default: MPD_HOST and "
                                              "MPD_PORT, else localhost:6600)."),
    music_dir: Optional[Path] = typer.Option(None, help="MPD's music directory (default: asked of MPD)."),
) -> None:
    """A mix that starts at TRACK and walks through its neighbourhood without repeats, each
    track close to the one before (and to the first)."""
    listed = _or_fail(lambda: journeys.mix(run_dir, track, None if minutes else count, minutes, representation,
                                           lyrics_weight, seed))
    _write_list(listed, run_dir, out, f"mix from {track}")
    if mpd:
        _print_mpd(_or_fail(lambda: queue_tracks(run_dir, list(listed["track_id"]), mpd_address, music_dir)))


@app.command("path")
def path_(
    run_dir: Path = typer.Argument(..., help="A run folder (songscape-runs/<name>)."),
    start: str = typer.Argument(..., help="The track id the path starts at."),
    end: str = typer.Argument(..., help="The track id the path ends at."),
    count: int = typer.Option(12, "-n", min=2, help="How many tracks, both ends included."),
    representation: Optional[str] = typer.Option(None, help="Latent space to cross (default: the best)."),
    lyrics_weight: float = _lyrics_weight_option(),
    out: Optional[Path] = typer.Option(None, help="Also write the path as this .m3u8 playlist."),
) -> None:
    """A list of tracks from START to END in even steps, along where the collection's tracks
    are (the route through each track's nearest tracks whose squared steps sum least)."""
    listed = _or_fail(lambda: journeys.path(run_dir, start, end, count, representation, lyrics_weight))
    _write_list(listed, run_dir, out, f"path from {start} to {end}")


@app.command()
def search(
    run_dir: Path = typer.Argument(..., help="A run folder (songscape-runs/<name>)."),
    text: str = typer.Argument(..., help="What the lyrics should be about (or, with --sound, what the music "
                                "should sound like), in any language."),
    k: int = typer.Option(10, "-k", min=1, help="How many tracks."),
    sound: bool = typer.Option(False, "--sound", help="Search the sound instead: the pretrained network's named "
                               "classes nearest to TEXT, weighted by each track's probabilities of them."),
) -> None:
    """Tracks whose lyrics are closest to TEXT, in any language (e5 similarity); with --sound,
    tracks that sound like TEXT."""
    if not sound:
        _print_table(_or_fail(lambda: search_lyrics(run_dir, text, k)))
        return
    found, classes = _or_fail(lambda: search_sound(run_dir, text, k))
    console.print("sound classes: " + ", ".join(f"{name} ({weight:.2f})" for name, weight in classes.items()))
    _print_table(found)


@app.command()
def playlists(
    run_dir: Path = typer.Argument(..., help="A run folder (songscape-runs/<name>)."),
    out: Optional[Path] = typer.Option(None, help="Folder for the .m3u8 playlists."),
    representation: Optional[str] = typer.Option(None, help="Whose clusters (default: the best)."),
    algorithm: Optional[str] = typer.Option(None, help="Which clustering (default: the best)."),
    mpd: bool = typer.Option(False, "--mpd", help="Store them in a running MPD instead (or as well, with --out)."),
    mpd_address: Optional[str] = typer.Option(None, help="MPD's HOST:PORT or socket (default: MPD_HOST and "
                                              "MPD_PORT, else localhost:6600)."),
    music_dir: Optional[Path] = typer.Option(None, help="MPD's music directory (default: asked of MPD, which "
                                             "tells local clients only)."),
) -> None:
    """One playlist per cluster of a saved run, named after its dominant labels: .m3u8 files
    (--out) and/or playlists stored in MPD (--mpd)."""
    if out is None and not mpd:
        _fail(ValueError("give --out FOLDER for .m3u8 files, or --mpd to store the playlists in MPD"))
    if out is not None:
        for path, count in _or_fail(lambda: write_playlists(run_dir, out, representation, algorithm)):
            console.print(f"{path}  ({count} tracks)")
    if mpd:
        _print_mpd(_or_fail(lambda: store_playlists(run_dir, mpd_address, music_dir, representation, algorithm)))


def _print_mpd(result: MpdResult) -> None:
    """What an MPD call did, one line per playlist, track not sent and playlist removed."""
    for name, count in result.stored:
        console.print(f"MPD playlist {name}  ({count} tracks)")
    if result.queued:
        console.print(f"{result.queued} tracks added to MPD's queue")
    for name in result.removed:
        console.print(f"MPD playlist {name} removed (no such cluster any more)")
    for line in result.not_sent:
        console.print(styled(("not sent to MPD", "yellow"), f": {line}"))


@app.command("assign")
def assign_(
    run_dir: Path = typer.Argument(..., help="A run folder (songscape-runs/<name>)."),
    files: list[Path] = typer.Argument(..., help="Audio files to place in the run's clusters."),
    representation: Optional[str] = typer.Option(None, help="Saved model to encode with (default: the best)."),
    algorithm: Optional[str] = typer.Option(None, help="Whose clusters (default: the best)."),
) -> None:
    """Extract new audio files, encode them with a saved model and assign each to a cluster
    (by the clusterer's rule, or, where it has none, by the nearest neighbours' clusters)."""
    _print_table(_or_fail(lambda: assign(run_dir, files, representation, algorithm)))


@app.command()
def update(
    run_dir: Path = typer.Argument(..., help="A run folder (songscape-runs/<name>)."),
    folder: Optional[Path] = typer.Argument(None, help="The run's audio folder as it is now (default: the folder "
                                            "the run read; another folder only with --replace)."),
    refit: bool = typer.Option(False, "--refit", help="Run the whole grid again instead; new clusters take "
                               "the numbers of the old clusters they overlap most."),
    replace: bool = typer.Option(False, "--replace", help="FOLDER is where the collection now lives (it moved): "
                                 "it replaces the run's folder, and what is not in it is deleted."),
    allow_deletes: bool = typer.Option(False, "--allow-deletes", help="Delete the tracks whose files are gone "
                                       "even when they are more than a fifth of the run."),
    playlists_dir: Optional[Path] = typer.Option(None, "--playlists", help="Write the playlists again into "
                                                 "this folder (as `songscape playlists --out`)."),
    mpd: bool = typer.Option(False, "--mpd", help="Store the playlists in MPD again (as `songscape playlists --mpd`)."),
    mpd_address: Optional[str] = typer.Option(None, help="MPD's HOST:PORT or socket (default: MPD_HOST and "
                                              "MPD_PORT, else localhost:6600)."),
    music_dir: Optional[Path] = typer.Option(None, help="MPD's music directory (default: asked of MPD)."),
) -> None:
    """Take new, changed, moved and deleted files of the run's folder into a finished run without
    refitting: new tracks join the existing clusters, every other track keeps its cluster."""
    if playlists_dir is not None:  # a file in the way is said before the update, not after
        _or_fail(lambda: make_folder(playlists_dir))
    summary = _or_fail(lambda: update_run(run_dir, folder, refit, log=console.print, replace=replace,
                                          allow_deletes=allow_deletes))
    diff = summary.diff
    kept = "refitted; clusters renumbered to match the old ones" if refit else "each keeps its cluster"
    console.print(f"{len(diff.added)} added, {len(diff.changed)} changed, {len(diff.deleted)} deleted, "
                  f"{len(diff.carried)} unchanged ({kept}); {summary.seconds:.1f} s")
    for track_id in diff.deleted:
        console.print(f"deleted: {printable(track_id, one_line=True)}")
    for old, new in diff.moved:
        console.print(f"moved: {printable(old, one_line=True)} → {printable(new, one_line=True)}")
    if len(summary.placed):
        console.print(f"placed in {summary.representation} + {summary.algorithm} by {summary.rule}:")
        _print_table(summary.placed)
    if playlists_dir is not None:
        written = _or_fail(lambda: write_playlists(run_dir, playlists_dir))
        console.print(f"{len(written)} playlists written to {playlists_dir}")
    if mpd:
        _print_mpd(_or_fail(lambda: store_playlists(run_dir, mpd_address, music_dir)))
    console.print(f"report: {run_dir / 'report' / 'index.html'}")


def main() -> None:
    """Entry point of the `songscape` command."""
    app()
