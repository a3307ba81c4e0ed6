"""`report/map.html`: an interactive, self-contained 2-D map of the tracks of a run.

Colour by cluster, language or any label; hover for title, artist, album, genre, language and cluster;
click a cluster's legend entry (or a point) for its cluster card; click a point to play the track (audio referenced relative to the report, or embedded as short Ogg
clips); a search box filters by title. Every text from the user's data reaches the page as
JSON (`printable`: control and bidi-override characters shown as escapes) and is written with
``textContent``, never parsed as HTML.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
from pathlib import Path

import pandas as pd
import soundfile as sf

from songscape.audio.decode import DecodeError, ExcerptSpec, decode
from songscape.filenames import file_path, file_url
from songscape.plaintext import printable, printable_tree
from songscape.report.cards import cluster_cards
from songscape.report.gallery import layout
from songscape.report.figures import FigureSkipped
from songscape.report.tables import ranked_results
from songscape.scan import unusable_file
from songscape.workspace import Workspace, read_parquet, write_text

CLIP_SECONDS = 20.0
CLIP_SAMPLE_RATE = 22050
MAP_FILE = "map.html"
TOOLTIP_COLUMNS = ("artist", "album", "genre")  # from the table or the files' own tags
TITLE_COLUMNS = ("title", "song", "song_name", "name", "track")  # the first present names a point
_TEMPLATE = Path(__file__).with_name("map_template.html")
logger = logging.getLogger(__name__)


def audio_source(path: str, report_dir: Path, embed: bool, problems: list[str] | None = None) -> str:
    """A URL for the track's audio: relative to the report, or a data URI of a short Ogg clip;
    "" when the track has no audio, or when its clip cannot be made for embedding (then the
    file and the reason are added to ``problems``)."""
    if not path:
        return ""
    file = file_path(path)
    if not embed:
        return file_url(Path(os.path.relpath(file, report_dir)))
    try:
        if refused := unusable_file(file):
            raise DecodeError(refused)
        decoded = decode(file, CLIP_SAMPLE_RATE, ExcerptSpec("centre", CLIP_SECONDS, 1))
    except (DecodeError, OSError) as error:
        (problems if problems is not None else []).append(f"{printable(path, one_line=True)}: {error}")
        return ""
    buffer = io.BytesIO()
    sf.write(buffer, decoded.samples, CLIP_SAMPLE_RATE, format="OGG", subtype="VORBIS")
    return "data:audio/ogg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _text(values: pd.Series) -> list[str]:
    return [("" if pd.isna(v) else str(v)) for v in values]


def _column_text(frame: pd.DataFrame, column: str) -> list[str]:
    """A column's values as text, empty where the column or the value is missing."""
    return _text(frame[column]) if column in frame.columns else [""] * len(frame)


def map_data(workspace: Workspace, representation: str, algorithm: str, label_columns: list[str],
             embed_audio: bool = False, random_state: int = 0) -> dict:
    """The JSON the page reads: one point per analysed track with its 2-D position, texts,
    colourings and audio source; ``random_state`` is the run's seed whose embedding, layout
    and clusters are shown."""
    tracks = read_parquet(workspace.tracks).set_index("track_id", drop=False)
    track_ids, coordinates = layout(workspace, representation, random_state, "umap")
    labels = read_parquet(workspace.labels(representation, algorithm)).set_index("track_id")
    selected = tracks.loc[track_ids]
    clusters = labels.loc[track_ids, f"seed_{random_state}"].to_numpy()
    colourings = {"cluster": ["noise" if c < 0 else f"cluster {c}" for c in clusters]}
    for column in ["language", *[c for c in label_columns if c != "language"]]:
        if column in selected.columns:
            colourings[column] = [v or "(missing)" for v in _text(selected[column])]
    lookup = {column.lower(): column for column in selected.columns}
    title_column = next((lookup[c] for c in TITLE_COLUMNS if c in lookup), None)
    titles = _text(selected[title_column]) if title_column else list(map(str, track_ids))
    position = {str(track_id): index for index, track_id in enumerate(track_ids)}
    cards = {("noise" if card.cluster < 0 else f"cluster {card.cluster}"):
             {"title": card.title, "size": card.size, "facts": card.facts(),
              "typical": [position[t] for t in card.typical if t in position]}
             for card in cluster_cards(workspace, tracks, representation, algorithm, label_columns, random_state)}
    not_embedded: list[str] = []
    sources = [audio_source(path, workspace.report_dir, embed_audio, not_embedded) for path in _text(selected["path"])]
    if not_embedded:
        logger.warning(f"{len(not_embedded)} of {len(sources)} tracks' audio could not be embedded, so their points "
                       f"do not play (first: {not_embedded[0]})")
    return {
        "title": f"{workspace.root.name}: {representation} + {algorithm}",
        "representation": representation,
        "colourings": colourings,
        "cards": cards,
        "points": [{"x": float(x), "y": float(y), "id": str(track_id), "title": title or str(track_id),
                    "artist": artist, "album": album, "genre": genre,
                    "audio": audio}
                   for (x, y), track_id, title, artist, album, genre, audio in zip(
                       coordinates, track_ids, titles, *(_column_text(selected, c) for c in TOOLTIP_COLUMNS),
                       sources)],
    }


def write_map(workspace: Workspace, label_columns: list[str], representation: str | None = None,
              algorithm: str | None = None, embed_audio: bool = False) -> Path:
    """Write ``report/map.html`` for ``representation`` + ``algorithm`` (default: the best
    result of the run that can be mapped, see `ranked_results`) and return its path;
    `FigureSkipped` when none can."""
    results = read_parquet(workspace.results_parquet)
    candidates = [(r, a) for r, a in ranked_results(results)
                  if representation in (None, r) and algorithm in (None, a)]
    reasons = []
    for chosen_representation, chosen_algorithm in candidates:  # the best one that can be mapped
        try:
            data = map_data(workspace, chosen_representation, chosen_algorithm, label_columns, embed_audio,
                            random_state=int(results["seed"].min()))  # the first seed, as in the report
            break
        except FigureSkipped as reason:
            reasons.append(f"{chosen_representation} + {chosen_algorithm}: {reason}")
    else:
        raise FigureSkipped("no result can be mapped: " + ("; ".join(reasons[:3]) or "no results"))
    payload = json.dumps(printable_tree(data), ensure_ascii=False).replace("<", "\\u003c").replace("&", "\\u0026")
    page = _TEMPLATE.read_text(encoding="utf-8").replace("/*DATA*/{}", payload)
    path = workspace.report_dir / MAP_FILE
    write_text(path, page)
    return path
