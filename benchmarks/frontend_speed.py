"""The pretrained front-ends at full speed: one pass per track against the former path.

    .venv/bin/python benchmarks/frontend_speed.py --audio /path/to/debian-music \
        --lyrics ../shared/data/lyrics-bn-en-450/lyrics.csv [--count 24] [--load]

Everything below is measured in the same run, on real audio (the 30-s centre excerpt of each
file, the cut songscape makes) and real lyrics:
- **audio front-end** (statistics + mel patch + MTT_musicnn), clips/s: the one-pass path
  (`extract_collection(..., network=...)`: one decode, every part in the same worker, one
  patch per forward, one thread per worker, the allocator guard) against the former path
  (statistics on the process pool, then musicnn serially in this process on a second decode
  at 16 kHz, 32 patches per forward, PyTorch's default threads);
- **musicnn GFLOP/s** on one core (FLOPs counted by PyTorch's FlopCounterMode) against a
  one-thread float32 matmul, and the front-end's share of the compute limit (cores × matmul
  rate / FLOPs per clip);
- **e5 lyric embeddings**, texts/s: texts on the process pool (one thread each) against one text
  at a time in this process (the former path, PyTorch's OpenMP runtime loaded);
- **training** a VAE on a 1 000 × 57 table with the thread policy (one PyTorch thread) and
  with PyTorch's default threads.
With ``--load``, each measurement of the new paths is repeated while another process keeps
one core busy, and the slowdown (loaded / idle time) is printed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import types
from contextlib import contextmanager, nullcontext
from pathlib import Path
from unittest.mock import patch

import numpy as np
import pandas as pd
import torch

from songscape.audio import musicnn as musicnn_module
from songscape.audio.decode import ExcerptSpec, decode
from songscape.audio.extract import extract_collection
from songscape.audio.features import SpectralSettings
from songscape.audio.musicnn import SAMPLE_RATE, Musicnn
from songscape.audio.track import NetworkSpec
from songscape.collection import AUDIO_EXTENSIONS
from songscape.models import REPRESENTATIONS
from songscape.runners import local_runner
from songscape.text.embed import e5_model, e5_vectors, embed_text
from songscape.text.settings import LyricsSettings
from songscape.text.normalize import normalize_lyrics
from songscape.threads import training_threads

SETTINGS, EXCERPT = SpectralSettings(), ExcerptSpec("centre", 30.0)
CORES = os.cpu_count() or 1


def timed(function) -> float:  # noqa: ANN001
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def _former_branch_forward(branch: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The front-end branch as it was: ReLU and norm over the whole conv output, then the max."""
    padded = torch.nn.functional.pad(x, (0, 0, *branch.time_padding))
    return branch.norm(torch.nn.functional.relu(branch.conv(padded))).amax(dim=3)


def former_tagger() -> Musicnn:
    """musicnn as it ran before: 32 patches per forward, the branches' former arithmetic
    (filters unfolded), denormals not flushed."""
    tagger = Musicnn("MTT_musicnn", batch_size=32)
    for branch in tagger.net.frontend:
        branch.conv.weight.data.mul_(branch.sign.view(-1, 1, 1, 1))
        branch.conv.bias.data.mul_(branch.sign)
        branch.sign.fill_(1.0)
        branch.forward = types.MethodType(_former_branch_forward, branch)
    return tagger


def former_audio_path(paths: list[str]) -> None:
    """Statistics on the pool, then musicnn serially here on a second decode."""
    extract_collection(paths, SETTINGS, EXCERPT, CORES)
    tagger = former_tagger()
    with patch.object(musicnn_module, "_denormals_flushed", nullcontext):
        for path in paths:
            tagger.track(decode(Path(path), SAMPLE_RATE, EXCERPT).samples)


def one_pass(paths: list[str]) -> None:
    extract_collection(paths, SETTINGS, EXCERPT, CORES, network=NetworkSpec())


def musicnn_rates(patches: int = 30) -> tuple[float, float, float]:
    """(GFLOP per 3-s patch, musicnn GFLOP/s on one thread, one-thread matmul GFLOP/s), in a
    child process set up as a worker is (one thread, allocator guard)."""
    code = f"""
import time, torch
from torch.utils.flop_counter import FlopCounterMode
from songscape.threads import worker_setup
worker_setup()
from songscape.audio.musicnn import Musicnn, N_MELS, PATCH_FRAMES
net = Musicnn().net
x = torch.randn(1, PATCH_FRAMES, N_MELS)
with torch.inference_mode():
    with FlopCounterMode(display=False) as counter:
        net(x)
    for _ in range(3): net(x)
    started = time.perf_counter()
    for _ in range({patches}): net(x)
    seconds = (time.perf_counter() - started) / {patches}
a = torch.randn(2048, 2048)
a @ a
started = time.perf_counter()
for _ in range(10): a @ a
matmul = 2 * 2048 ** 3 * 10 / (time.perf_counter() - started) / 1e9
print(counter.get_total_flops() / 1e9, counter.get_total_flops() / 1e9 / seconds, matmul)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    gflop, rate, matmul = map(float, out.split())
    return gflop, rate, matmul


def e5_former(texts: list[str], chunk_tokens: int) -> None:
    for text in texts:  # one text per call, whatever threads the loaded OpenMP runtime has
        embed_text((text, chunk_tokens, None))


def e5_parallel(texts: list[str], settings: LyricsSettings) -> None:
    e5_vectors(texts, settings, cache_dir=None, runner=local_runner(CORES))


def fit_vae(threads_policy: bool) -> float:
    X = np.random.default_rng(0).normal(size=(1000, 57)).astype(np.float32)
    model = REPRESENTATIONS["vae"](random_state=0, latent_dim=8)
    if threads_policy:
        with training_threads():
            return timed(lambda: model.fit(X=X))
    return timed(lambda: model.fit(X=X))


@contextmanager
def busy_core(active: bool):  # noqa: ANN201
    """Another process keeping one core busy for the duration (when ``active``)."""
    process = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if active else None
    try:
        time.sleep(0.5 if active else 0)
        yield
    finally:
        if process is not None:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio", type=Path, required=True, help="folder of real audio files")
    parser.add_argument("--lyrics", type=Path, required=True, help="CSV with a lyrics column")
    parser.add_argument("--count", type=int, default=24, help="audio files (default 24)")
    parser.add_argument("--texts", type=int, default=48, help="lyrics texts (default 48)")
    parser.add_argument("--load", action="store_true", help="repeat with a busy process on one core")
    args = parser.parse_args()
    files = sorted(p for p in args.audio.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS)
    paths = [str(p) for p in files[:: max(1, len(files) // args.count)][:args.count]]
    table = pd.read_csv(args.lyrics, dtype=str, keep_default_na=False)
    column = next(c for c in table.columns if c.lower() in ("lyrics", "lyric", "text"))
    texts = [t for t in (normalize_lyrics(v) for v in table[column]) if t][:args.texts]
    settings = LyricsSettings(method="e5")
    e5_model()  # loaded before any pool forks, as in a run
    print(f"{len(paths)} audio files (30-s centre excerpts) from {args.audio}, {len(texts)} lyrics texts, "
          f"{CORES} cores, torch {torch.__version__} ({torch.get_num_threads()} default threads)")

    extract_collection(paths[:2], SETTINGS, EXCERPT, 1, network=NetworkSpec())  # warm-up: imports, weights
    former = timed(lambda: former_audio_path(paths))
    new = timed(lambda: one_pass(paths))
    gflop, musicnn_rate, matmul = musicnn_rates()
    clip_gflop = gflop * 10  # ten 3-s patches per 30-s clip
    limit = CORES * matmul / clip_gflop
    e5_old = timed(lambda: e5_former(texts, settings.chunk_tokens))
    e5_new = timed(lambda: e5_parallel(texts, settings))
    fit_default, fit_policy = fit_vae(False), fit_vae(True)
    n, m = len(paths), len(texts)
    print("\n| measure | former path | songscape now | ratio |\n|---|---|---|---|")
    print(f"| audio front-end, clips/s (stats + mel + musicnn) | {n / former:.2f} | {n / new:.2f} | {former / new:.2f}× |")
    print(f"| share of the compute limit ({limit:.2f} clips/s = {CORES} × {matmul:.0f} GFLOP/s ÷ "
          f"{clip_gflop:.1f} GFLOP per clip) | {n / former / limit:.0%} | {n / new / limit:.0%} | |")
    print(f"| musicnn GFLOP/s on one thread vs one-thread matmul ({matmul:.0f} GFLOP/s) | | "
          f"{musicnn_rate:.0f} | {musicnn_rate / matmul:.0%} |")
    print(f"| e5 texts/s | {m / e5_old:.2f} | {m / e5_new:.2f} | {e5_old / e5_new:.2f}× |")
    print(f"| VAE fit on 1 000 × 57, s (default threads → policy) | {fit_default:.1f} | {fit_policy:.1f} | |")
    if not args.load:
        return
    with busy_core(True):
        loaded = {"audio front-end (one pass)": (timed(lambda: one_pass(paths)), new),
                  "e5 (pool)": (timed(lambda: e5_parallel(texts, settings)), e5_new),
                  "e5 (former path: one at a time here)": (timed(lambda: e5_former(texts, settings.chunk_tokens)), e5_old),
                  "VAE fit, thread policy": (fit_vae(True), fit_policy),
                  "VAE fit, default threads": (fit_vae(False), fit_default)}
    print(f"\nwith another process busy on one of {CORES} cores:\n| stage | idle s | loaded s | slowdown |\n|---|---|---|---|")
    for name, (busy, idle) in loaded.items():
        print(f"| {name} | {idle:.1f} | {busy:.1f} | {busy / idle:.2f}× |")


if __name__ == "__main__":
    main()
