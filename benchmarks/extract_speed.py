"""Extraction speed against a naive librosa reference, and memory as the clip count grows.

Writes N 30-s clips (half WAV, half MP3; 44.1 kHz by default, like most music files), then
times, with the same process count and in the same run:
- songscape: `extract_track` (decode + resample + one STFT + 174 statistics + log-mel patch);
- a naive reference written the way most projects do it: `librosa.load`, then
  `librosa.feature.mfcc`, `delta`, `chroma_stft`, `spectral_contrast`, `spectral_centroid`, …
  each called on its own (each computes its own STFT).
Both run in a process pool that is warmed up first (librosa JIT-compiles on first use), so the
figures are steady-state throughput. Also timed: songscape's whole `extract_collection`
(pool start-up, memmap writing) on the same files.

Memory: extracts 500, 1000 and 2000 clips (links to the written files) into memmaps, each in a
fresh process, and prints the peak RSS of the parent and of the largest worker.

    .venv/bin/pip install -c constraints.txt -e '.[bench]'
    .venv/bin/python benchmarks/extract_speed.py                     # 44.1 kHz clips
    .venv/bin/python benchmarks/extract_speed.py --sample-rate 22050 --memory
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import soundfile as sf
from threadpoolctl import threadpool_limits

from songscape.audio.decode import ExcerptSpec
from songscape.audio.extract import extract_collection
from songscape.audio.features import SpectralSettings
from songscape.audio.track import extract_track
from songscape.demo.synth import STYLES, render_track

SETTINGS = SpectralSettings()


def write_clips(directory: Path, count: int, seconds: float, sample_rate: int) -> list[Path]:
    """``count`` demo-style clips, alternating WAV and MP3."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        rng = np.random.default_rng(index)
        audio = render_track(STYLES[index % len(STYLES)], seconds, sample_rate, rng)
        if index % 2 == 0:
            path = directory / f"clip{index:04d}.wav"
            sf.write(path, audio, sample_rate, subtype="PCM_16")
        else:
            path = directory / f"clip{index:04d}.mp3"
            sf.write(path, audio, sample_rate, format="MP3", subtype="MPEG_LAYER_III")
        paths.append(path)
    return paths


def naive_features(path: str) -> np.ndarray:
    """The common way: load, then one librosa call per feature, each with its own STFT."""
    import librosa

    y, sr = librosa.load(path, sr=22050, mono=True, duration=30.0)
    mfcc = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20)
    parts = [mfcc, librosa.feature.delta(mfcc), librosa.feature.delta(mfcc, order=2),
             librosa.feature.chroma_stft(y=y, sr=sr, tuning=0.0),  # tuning estimation crashes numba 0.68 here
             librosa.feature.spectral_contrast(y=y, sr=sr),
             librosa.feature.spectral_centroid(y=y, sr=sr),
             librosa.feature.spectral_bandwidth(y=y, sr=sr),
             librosa.feature.spectral_rolloff(y=y, sr=sr),
             librosa.feature.spectral_flatness(y=y),
             librosa.feature.zero_crossing_rate(y),
             librosa.feature.rms(y=y)]
    onset = librosa.onset.onset_strength(y=y, sr=sr)
    tempo = librosa.feature.tempo(onset_envelope=onset, sr=sr)
    librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr, n_mels=64))
    stats = [np.concatenate([p.mean(axis=1), p.std(axis=1)]) for p in parts]
    return np.concatenate([*stats, [onset.mean(), onset.std()], np.atleast_1d(tempo)])


def songscape_features(path: str) -> np.ndarray:
    result = extract_track(path, SETTINGS, ExcerptSpec("centre", 30.0))
    if result.error:
        raise RuntimeError(f"{path}: {result.error}")
    return result.stats


def _one_thread_each() -> None:
    """Pool initializer for both methods: one BLAS thread per worker process (songscape's own
    pool does the same), so that neither oversubscribes the cores."""
    threadpool_limits(1)


def timed_pool(function, paths: list[str], workers: int) -> float:
    """Seconds to map ``function`` over ``paths`` in a pool warmed up on other work first."""
    with ProcessPoolExecutor(max_workers=workers, initializer=_one_thread_each) as pool:
        list(pool.map(function, paths[:workers] * 2))  # warm-up: imports, JIT, first calls
        started = time.perf_counter()
        list(pool.map(function, paths, chunksize=1))
        return time.perf_counter() - started


def _peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM). Unlike ru_maxrss it starts afresh at exec,
    so it does not carry the benchmark parent's peak into the measuring process."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_run(directory: Path, count: int, workers: int) -> None:
    """(In a fresh process.) Extract ``count`` links to the clips into memmaps; print RSS."""
    sources = sorted(p for p in directory.iterdir() if p.suffix in (".wav", ".mp3"))
    links = directory / f"links{count}"
    links.mkdir(exist_ok=True)
    paths = []
    for index in range(count):
        link = links / f"{index:05d}{sources[index % len(sources)].suffix}"
        if not link.exists():
            os.link(sources[index % len(sources)], link)
        paths.append(str(link))
    out = directory / f"features{count}"
    started = time.perf_counter()
    extract_collection(paths, SETTINGS, ExcerptSpec("centre", 30.0), workers, out_dir=out)
    elapsed = time.perf_counter() - started
    memmap_mb = sum(f.stat().st_size for f in out.iterdir()) / 2**20
    parent_mb = _peak_rss_mb()
    worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    rate = count / elapsed / workers
    print(f"{count:>6} {elapsed:>8.1f} {rate:>13.1f} {parent_mb:>15.0f} {parent_mb - memmap_mb:>17.0f} "
          f"{worker_mb:>15.0f} {memmap_mb:>11.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=128)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--sample-rate", type=int, default=44100, help="of the written clips")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--memory", type=int, nargs="*", default=[500, 1000, 2000],
                        help="clip counts for the memory check (none: skip it)")
    parser.add_argument("--memory-run", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_run:
        memory_run(args.dir, args.memory_run, args.workers)
        return
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        started = time.perf_counter()
        paths = [str(p) for p in write_clips(directory, args.clips, args.seconds, args.sample_rate)]
        print(f"wrote {len(paths)} clips of {args.seconds:.0f} s at {args.sample_rate} Hz "
              f"(half WAV, half MP3) in {time.perf_counter() - started:.1f} s; "
              f"{args.workers} process(es)")
        ours = timed_pool(songscape_features, paths, args.workers)
        naive = timed_pool(naive_features, paths, args.workers)
        started = time.perf_counter()
        extract_collection(paths, SETTINGS, ExcerptSpec("centre", 30.0), args.workers)
        whole = time.perf_counter() - started
        per_core = lambda seconds: len(paths) / seconds / args.workers  # noqa: E731
        print(f"{'method':<34}{'seconds':>9}{'clips/s/core':>14}")
        print(f"{'songscape extract_track':<34}{ours:>9.2f}{per_core(ours):>14.1f}")
        print(f"{'songscape extract_collection':<34}{whole:>9.2f}{per_core(whole):>14.1f}")
        print(f"{'naive librosa reference':<34}{naive:>9.2f}{per_core(naive):>14.1f}")
        print(f"ratio songscape / naive: {naive / ours:.1f}x")
        if args.memory:
            print(f"\n{'clips':>6} {'seconds':>8} {'clips/s/core':>13} {'parent peak MB':>15} "
                  f"{'minus memmaps':>17} {'worker peak MB':>15} {'memmaps MB':>11}")
            for count in args.memory:
                subprocess.run([sys.executable, __file__, "--memory-run", str(count), "--dir", scratch,
                                "--workers", str(args.workers)], check=True)


if __name__ == "__main__":
    main()
