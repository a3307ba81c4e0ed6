import json
from pathlib import Path

import pandas as pd
import pytest

from songscape.collection import CollectionError, load_collection, read_table
from songscape.labels import infer_label_columns
from tests.conftest import write_tone


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    audio = tmp_path / "music"
    (audio / "sub").mkdir(parents=True)
    for name in ("a.wav", "b.flac", "sub/c.ogg"):
        write_tone(audio / name)
    (audio / "notes.md").write_text("not audio")
    return audio


def test_discovers_recursively_without_table(folder: Path) -> None:
    collection = load_collection(folder)
    assert list(collection.tracks["track_id"]) == ["a", "b", "sub/c"]
    assert set(collection.tracks["status"]) == {"ok"}
    assert collection.tracks["sha1"].str.len().eq(40).all()


def test_no_audio_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("hi")
    with pytest.raises(CollectionError, match="no audio files found"):
        load_collection(tmp_path)


def test_table_matched_by_file_name_with_bom_and_unmatched_lists(folder: Path, tmp_path: Path) -> None:
    table = tmp_path / "meta.csv"
    table.write_text("file,genre,lyrics\na.wav,rock,hello world\nsub/c.ogg,folk,আমি তোমায়\n"
                     "missing.mp3,rock,gone\n", encoding="utf-8-sig")
    collection = load_collection(folder, table)
    tracks = collection.tracks.set_index("track_id")
    assert tracks.loc["a", "genre"] == "rock" and tracks.loc["sub/c", "lyrics"] == "আমি তোমায়"
    assert tracks.loc["sub/c", "language"] == "bangla"
    assert pd.isna(tracks.loc["b", "genre"])
    assert collection.rows_without_file == ["row 3 (file='missing.mp3')"]
    assert collection.files_without_row == ["b.flac"]
    assert collection.label_columns == ["genre"]


def test_table_matched_by_track_id_json_and_tsv(folder: Path, tmp_path: Path) -> None:
    records = [{"track_id": "a", "mood": "calm"}, {"track_id": "b", "mood": "angry"}]
    json_table = tmp_path / "meta.json"
    json_table.write_text(json.dumps(records))
    tsv_table = tmp_path / "meta.tsv"
    tsv_table.write_text("track_id\tmood\na\tcalm\nb\tangry\n")
    for table in (json_table, tsv_table):
        tracks = load_collection(folder, table).tracks.set_index("track_id")
        assert tracks.loc["b", "mood"] == "angry"


def test_missing_named_column(folder: Path, tmp_path: Path) -> None:
    table = tmp_path / "meta.csv"
    table.write_text("file,genre\na.wav,rock\n")
    with pytest.raises(CollectionError, match="column 'words' not found"):
        load_collection(folder, table, lyrics_column="words")
    with pytest.raises(CollectionError, match="column 'mood' not found"):
        load_collection(folder, table, label_columns=["mood"])


def test_duplicate_ids(folder: Path, tmp_path: Path) -> None:
    table = tmp_path / "meta.csv"
    table.write_text("track_id,file\nx,a.wav\nx,b.flac\n")
    with pytest.raises(CollectionError, match="duplicate track_id 'x' in rows 1, 2"):
        load_collection(folder, table)


def test_two_rows_for_one_file(folder: Path, tmp_path: Path) -> None:
    table = tmp_path / "meta.csv"
    table.write_text("file\na.wav\n./a.wav\n")
    with pytest.raises(CollectionError, match="rows 1 and 2 both match file a.wav"):
        load_collection(folder, table)


def test_unreadable_encoding(folder: Path, tmp_path: Path) -> None:
    table = tmp_path / "meta.csv"
    table.write_bytes("file,genre\na.wav,café\n".encode("latin-1"))
    with pytest.raises(CollectionError, match=r"meta.csv: not UTF-8 text \(byte 0xe9 at offset 20\)"):
        load_collection(folder, table)


def test_unknown_table_format(folder: Path, tmp_path: Path) -> None:
    table = tmp_path / "meta.xlsx"
    table.write_bytes(b"PK")
    with pytest.raises(CollectionError, match="unknown table format"):
        read_table(table)


def test_lyrics_from_lrc_sidecar(folder: Path) -> None:
    (folder / "a.lrc").write_text("[ar:Someone]\n[00:12.34]ভালোবাসা আমার\n[00:15.00]আমি তোমায় ভালোবাসি\n")
    tracks = load_collection(folder).tracks.set_index("track_id")
    assert "[00:12.34]ভালোবাসা আমার" in tracks.loc["a", "lyrics"]  # kept as found; cleaned for analysis
    assert tracks.loc["a", "language"] == "bangla"
    assert tracks.loc["b", "lyrics"] == ""


def test_label_inference_skips_ids_titles_and_numbers() -> None:
    frame = pd.DataFrame({
        "track_id": [str(i) for i in range(8)], "title": [f"song {i}" for i in range(8)],
        "genre": ["rock", "folk"] * 4, "tempo": ["120.5", "98.25"] * 4,
        "unique_note": [f"n{i}" for i in range(8)], "year": ["1990", "2000"] * 4,
    })
    assert infer_label_columns(frame, exclude=set()) == ["genre", "year"]


def test_table_language_wins_over_detection(folder: Path, tmp_path: Path) -> None:
    table = tmp_path / "meta.csv"
    table.write_text("file,language,lyrics\na.wav,english,আমি তোমাকে ভালোবাসি আজ রাতে\n"
                     "b.flac,,I walk the line tonight because you're mine\n")
    tracks = load_collection(folder, table).tracks.set_index("track_id")
    assert tracks.loc["a", "language"] == "english" and tracks.loc["a", "language_detected"] == "bangla"
    assert tracks.loc["b", "language"] == "english" and tracks.loc["b", "script"] == "Latn"
    assert pd.isna(tracks.loc["sub/c", "language"])  # no lyrics, no table value


def test_lyrics_sidecar_in_utf16_or_refused(folder: Path) -> None:
    (folder / "a.txt").write_bytes("ভালোবাসা আমার".encode("utf-16"))
    (folder / "b.txt").write_bytes("caf\xe9 au lait".encode("latin-1"))
    collection = load_collection(folder)
    tracks = collection.tracks.set_index("track_id")
    assert tracks.loc["a", "lyrics"] == "ভালোবাসা আমার"
    assert tracks.loc["b", "lyrics"] == ""
    assert collection.warnings == [f"{folder / 'b.txt'}: not UTF-8 text (byte 0xe9 at offset 3); "
                                   "save it as UTF-8; lyrics ignored"]


def test_parquet_table_with_numbers_and_missing_values(folder: Path, tmp_path: Path) -> None:
    table = tmp_path / "meta.parquet"
    pd.DataFrame({"track_id": ["a", "b"], "year": [1990, 2001], "genre": ["rock", None]}).to_parquet(table)
    tracks = load_collection(folder, table, label_columns=["year", "genre"]).tracks.set_index("track_id")
    assert tracks.loc["a", "year"] == "1990" and tracks.loc["a", "genre"] == "rock"
    assert pd.isna(tracks.loc["b", "genre"])
