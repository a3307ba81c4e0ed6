"""The audio front-end per track: the former default (30-s centre excerpt, MTT_musicnn) against
the new one (8 segments of 4 s over the track's inner part, EfficientAT mn04_as), measured in the
same run on the same files.

    .venv/bin/python benchmarks/network_speed.py --audio /work/data/debian-music --count 24
    python benchmarks/network_speed.py --synthetic 64      # no audio at hand (a GPU machine)

Prints clips/s of the one pass (statistics + mel patch + network, one decode, all cores, one
thread per worker) for both defaults on the CPU, their ratio, and, where PyTorch sees a CUDA
device, the new default with the network on the GPU (the workers decode and compute the
statistics and the network's input; this process runs the network), and the network alone on
each device in batches (segments/s).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from songscape.audio.decode import ExcerptSpec
from songscape.audio.efficientat import SAMPLE_RATE, EfficientAT, log_mel
from songscape.audio.extract import extract_collection
from songscape.audio.features import SpectralSettings
from songscape.audio.track import NetworkSpec
from songscape.demo.synth import STYLES, render_track
from songscape.scan import AUDIO_EXTENSIONS

CORES = os.cpu_count() or 1
SETTINGS = SpectralSettings()
FORMER = (ExcerptSpec("centre", 30.0), NetworkSpec("MTT_musicnn"))
NEW = (ExcerptSpec("segments", 32.0, crops=8), NetworkSpec("mn04_as"))


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def synthetic_tracks(count: int, directory: Path) -> list[str]:
    """``count`` 90-s tracks of the demo's synthesizer, written as FLAC."""
    paths = []
    for index in range(count):
        path = directory / f"synth-{index:03d}.flac"
        audio = render_track(STYLES[index % len(STYLES)], 90.0, 22050, np.random.default_rng(index))
        sf.write(path, audio, 22050)
        paths.append(str(path))
    return paths


def one_pass(paths: list[str], excerpt: ExcerptSpec, network: NetworkSpec) -> float:
    """Seconds for the one pass over ``paths`` on every core."""
    return timed(lambda: extract_collection(paths, SETTINGS, excerpt, CORES, network=network))


def network_rate(device: str, batch: int = 64, rounds: int = 5) -> float:
    """EfficientAT alone on ``device``: 4-s segments per second, in batches of ``batch``."""
    network = EfficientAT(device=device)
    segment = np.random.default_rng(0).standard_normal(4 * SAMPLE_RATE).astype(np.float32) * 0.1
    batch_input = np.repeat(log_mel(segment)[None], batch, axis=0)
    network.predict_log_mel(batch_input)  # warm-up
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = timed(lambda: [network.predict_log_mel(batch_input) for _ in range(rounds)])
    return batch * rounds / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio", type=Path, help="folder of real audio files")
    parser.add_argument("--count", type=int, default=24, help="files to read (default 24)")
    parser.add_argument("--synthetic", type=int, default=0, help="generate this many 90-s tracks instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        if args.synthetic:
            paths = synthetic_tracks(args.synthetic, Path(scratch))
            source = f"{len(paths)} synthetic 90-s tracks"
        else:
            files = sorted(p for p in args.audio.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS)
            paths = [str(p) for p in files[:: max(1, len(files) // args.count)][:args.count]]
            source = f"{len(paths)} files from {args.audio}"
        print(f"{source}, {CORES} cores, torch {torch.__version__}, CUDA: {torch.cuda.is_available()}")
        for excerpt, network in (FORMER, NEW):
            extract_collection(paths[:2], SETTINGS, excerpt, 1, network=network)  # warm-up: weights, imports
        former, new = one_pass(paths, *FORMER), one_pass(paths, *NEW)
        n = len(paths)
        print("\n| front-end | clips/s | s per clip |\n|---|---|---|")
        print(f"| former default: centre 30 s + MTT_musicnn, CPU | {n / former:.2f} | {former / n:.3f} |")
        print(f"| new default: 8 × 4-s segments + mn04_as, CPU | {n / new:.2f} | {new / n:.3f} |")
        print(f"| time per clip, new / former | {new / former:.2f}× | |")
        if torch.cuda.is_available():
            on_gpu = NetworkSpec("mn04_as", device="cuda", in_worker=False)
            extract_collection(paths[:2], SETTINGS, NEW[0], 1, network=on_gpu)
            gpu = one_pass(paths, NEW[0], on_gpu)
            print(f"| new default, network on the GPU | {n / gpu:.2f} | {gpu / n:.3f} |")
        print("\n| mn04_as alone, batches of 64 four-second segments | segments/s |\n|---|---|")
        print(f"| CPU, {torch.get_num_threads()} threads | {network_rate('cpu'):.0f} |")
        if torch.cuda.is_available():
            print(f"| CUDA | {network_rate('cuda'):.0f} |")


if __name__ == "__main__":
    main()
