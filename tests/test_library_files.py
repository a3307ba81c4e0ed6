"""A real library folder: tags and lyrics in every format, lyrics files beside the audio, a
table over the tags, symbolic links in and out of the folder, broken entries, excludes and
duration limits, label spellings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from mutagen.flac import FLAC
from mutagen.id3 import ID3, TCON, TIT2, TPE1, USLT
from mutagen.mp4 import MP4
from mutagen.oggvorbis import OggVorbis

from songscape.collection import load_collection
from songscape.tags import read_file_tags
from tests.audio_fixtures import write_format


def _tagged_library(root: Path) -> Path:
    """Four files of four formats, each tagged by the tests the way its format stores tags."""
    root.mkdir(parents=True)
    for extension in ("mp3", "flac", "ogg", "m4a"):
        write_format(root, extension, seconds=3.0).rename(root / f"{extension}-song.{extension}")
    mp3 = ID3()
    mp3.add(TIT2(encoding=3, text="Nodir Kule"))
    mp3.add(TPE1(encoding=3, text="Baul Shilpi"))
    mp3.add(TCON(encoding=3, text="Folk"))
    mp3.add(USLT(encoding=3, lang="ben", desc="", text="নদীর কূলে বসে আছি"))
    mp3.save(root / "mp3-song.mp3")
    flac = FLAC(root / "flac-song.flac")
    flac.update({"title": "River Song", "artist": "The Boats", "genre": "folk ", "LYRICS": "the river runs to the sea"})
    flac.save()
    ogg = OggVorbis(root / "ogg-song.ogg")
    ogg.update({"title": "Night Drive", "genre": "Rock", "UNSYNCEDLYRICS": "city lights and the open road"})
    ogg.save()
    mp4 = MP4(root / "m4a-song.m4a")
    mp4.update({"©nam": ["Desert"], "©ART": ["Sand"], "©gen": ["rock"], "©lyr": ["sand and wind"]})
    mp4.save()
    return root


@pytest.fixture
def library(tmp_path: Path) -> Path:
    return _tagged_library(tmp_path / "music")


def test_each_format_gives_its_tags_and_lyrics(library: Path) -> None:
    found = {path.suffix: read_file_tags(path) for path in library.iterdir()}
    assert found[".mp3"].values == {"title": "Nodir Kule", "artist": "Baul Shilpi", "genre": "Folk"}
    assert found[".mp3"].lyrics == "নদীর কূলে বসে আছি"
    assert found[".flac"].values["artist"] == "The Boats" and found[".flac"].lyrics == "the river runs to the sea"
    assert found[".ogg"].values["title"] == "Night Drive" and found[".ogg"].lyrics.startswith("city lights")
    assert found[".m4a"].values["artist"] == "Sand" and found[".m4a"].lyrics == "sand and wind"
    assert all(2.5 < tags.duration_s < 3.5 for tags in found.values())


def test_tags_feed_the_tracks_labels_and_lyrics(library: Path) -> None:
    collection = load_collection(library, label_columns=["genre"])
    tracks = collection.tracks.set_index("track_id")
    assert tracks.loc["mp3-song", "title"] == "Nodir Kule" and tracks.loc["mp3-song", "language"] == "bangla"
    assert tracks.loc["flac-song", "lyrics"] == "the river runs to the sea"
    # "Folk"/"folk " and "Rock"/"rock" differ only in case or spacing: merged, with a notice
    assert sorted(tracks["genre"]) == ["Folk", "Folk", "Rock", "Rock"]  # ties: the first spelling in order
    assert any(line.startswith("label 'genre': ") and "merged as" in line for line in collection.warnings)
    assert collection.label_columns == ["genre"]


def test_lrc_beside_the_file_and_the_table_over_the_tags(library: Path, tmp_path: Path) -> None:
    (library / "ogg-song.lrc").write_text("[ar:Someone]\n[00:01.00]lyrics from the lrc file\n", encoding="utf-8")
    table = tmp_path / "meta.csv"
    table.write_text("file,title,genre\nmp3-song.mp3,Nodir Kule (live),\nflac-song.flac,,ambient\n", encoding="utf-8")
    tracks = load_collection(library, table).tracks.set_index("track_id")
    assert "lyrics from the lrc file" in tracks.loc["ogg-song", "lyrics"]  # the lrc before the embedded tag
    assert tracks.loc["mp3-song", "title"] == "Nodir Kule (live)"  # the table overrides the tag
    assert tracks.loc["mp3-song", "genre"] == "Folk"  # an empty cell does not erase it
    assert tracks.loc["flac-song", "genre"] == "ambient" and tracks.loc["flac-song", "title"] == "River Song"


def test_links_broken_entries_and_excludes(library: Path, tmp_path: Path) -> None:
    elsewhere = _tagged_library(tmp_path / "other-disk")
    os.symlink(elsewhere / "flac-song.flac", library / "linked.flac")  # a file on another disk
    os.symlink(elsewhere, library / "disk2")  # a whole folder on another disk
    os.symlink(library, library / "disk2-loop")  # a loop back into the library
    os.symlink(tmp_path / "gone.mp3", library / "broken.mp3")
    (library / "folder.mp3").mkdir()
    (library / "skip-me").mkdir()
    write_format(library / "skip-me", "wav")
    collection = load_collection(library, exclude=("skip-me", "*.m4a"))
    ids = list(collection.tracks["track_id"])
    assert "linked" in ids and "disk2/ogg-song" in ids and not any(i.startswith("skip-me") or "m4a" in i for i in ids)
    assert not any(i.startswith("disk2-loop") for i in ids)
    linked = collection.tracks.set_index("track_id").loc["linked"]
    assert linked["path"] == str(library / "linked.flac") and linked["title"] == "River Song"
    assert any(line.startswith("skipped broken.mp3: broken link") for line in collection.warnings)
    assert any(line.startswith("skipped folder.mp3: a folder") for line in collection.warnings)
    assert any("left out by --exclude" in line for line in collection.warnings)


def test_duration_limits_skip_with_the_reason(library: Path) -> None:
    write_format(library, "wav", seconds=1.0).rename(library / "jingle.wav")
    tracks = load_collection(library, duration_range=(2.0, 60.0)).tracks.set_index("track_id")
    assert tracks.loc["jingle", "status"] == "skipped"
    assert tracks.loc["jingle", "reason"] == "shorter than --min-duration (1.0 s < 2 s)"
    assert (tracks.drop(index="jingle")["status"] == "ok").all()
    longest = load_collection(library, duration_range=(None, 2.0)).tracks.set_index("track_id")
    assert longest.loc["mp3-song", "reason"].startswith("longer than --max-duration (3.")
