"""Fit time of every neural model on the same synthetic data, per device (one CPU thread, and
CUDA when there is one), with this checkout's code and, with ``--reference-src``, another
checkout's (e.g. ``git worktree add ../ref <commit>``, then ``--reference-src ../ref/src``) in
the same run; each fit runs in a fresh process. Epochs are fixed (no early stopping), so the
times compare the same work; the last validation loss shows that the fit is as good.

    .venv/bin/python benchmarks/training_speed.py [--reference-src ../ref/src] [--models vae mvae]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from code_versions import code_versions  # benchmarks/ is on the path when a benchmark runs

ROWS = 1000
NEVER_STOP = 10**6
# model: (kind, params, data); data names a generator below. The sizes of issue 27's table.
MODELS = {
    "ae": ("ae", {"epochs": 100}, "table"),
    "vae": ("vae", {"epochs": 100}, "table"),
    "cvae": ("cvae", {"epochs": 100}, "table"),
    "vade": ("vade", {"pretrain_epochs": 40, "epochs": 60, "n_components": 8}, "table"),
    "mvae": ("mvae", {"epochs": 100, "latent_dim": 16}, "multimodal"),
    "group-vae": ("group-vae", {"epochs": 100}, "segments"),
    "group-vae-contrast": ("group-vae", {"epochs": 100, "contrast_weight": 0.3}, "segments"),
    "contrastive": ("contrastive", {"epochs": 100}, "segments"),
    "mvae-segments": ("mvae", {"epochs": 100, "latent_dim": 16}, "multimodal-segments"),
    "mvae-segments-contrast": ("mvae", {"epochs": 100, "latent_dim": 16, "contrast_weight": 0.1}, "multimodal-segments"),
    "conv-vae": ("conv-vae", {"epochs": 20}, "patches"),
}


def synthetic(name: str, seed: int = 0) -> dict[str, np.ndarray]:
    """Eight groups in an 8-dimensional latent space, mapped linearly to the input's shape plus
    noise: 1 000 × 600 (table), audio 216 + lyrics 384 (multimodal; with audio in 8 segments:
    multimodal-segments), 1 000 × 8 × 174 (segments), 400 log-mel patches of 64 × 128 (patches)."""
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, 8, ROWS)
    latent = rng.normal(0.0, 3.0, (8, 8))[groups] + rng.normal(0.0, 1.0, (ROWS, 8))

    def mapped(width: int, rows: int = ROWS) -> np.ndarray:
        return (latent[:rows] @ rng.normal(size=(8, width)) + rng.normal(0.0, 0.5, (rows, width))).astype(np.float32)

    if name == "table":
        return {"X": mapped(600), "condition": np.array(["bn", "en"])[groups % 2]}
    if name in ("multimodal", "multimodal-segments"):
        has_lyrics = np.arange(ROWS) % 5 != 0  # a fifth of the tracks without lyrics
        audio = mapped(8 * 216).reshape(ROWS, 8, 216) if name == "multimodal-segments" else mapped(216)
        return {"audio": audio, "lyrics": mapped(384) * has_lyrics[:, None], "lyrics_mask": has_lyrics}
    if name == "segments":
        return {"X": mapped(8 * 174).reshape(ROWS, 8, 174)}
    return {"X": mapped(64 * 128, 400).reshape(400, 64, 128)}


def fit_once(model: str, device: str) -> dict[str, float]:
    """Fit ``model`` once on its data in this process; seconds and the last validation loss."""
    import time

    import torch

    from songscape.models import REPRESENTATIONS

    torch.set_num_threads(1)
    kind, params, data_name = MODELS[model]
    data = synthetic(data_name)
    estimator = REPRESENTATIONS[kind](**params, patience=NEVER_STOP, device=device, random_state=0)
    started = time.perf_counter()
    if kind == "cvae":
        estimator.fit(data["X"], condition=data["condition"])
    elif kind == "mvae":
        estimator.fit(data["audio"], data["lyrics"], lyrics_mask=data["lyrics_mask"])
    else:
        estimator.fit(data["X"])
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    validated = [row["val_loss"] for row in estimator.history_ if "val_loss" in row]
    return {"seconds": seconds, "val_loss": float(validated[-1]) if validated else float("nan")}


def _measure(model: str, device: str, src: Path) -> dict[str, float]:
    """`fit_once` in a fresh process that imports songscape from ``src``."""
    environment = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, __file__, "--worker", model, device], env=environment,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference-src", type=Path, help="src/ of the checkout to compare against")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(fit_once(*args.worker)))
        return
    import torch

    devices = ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]
    versions = code_versions(args.reference_src)
    print("| model | device | " + " | ".join(f"{v} s | {v} val loss" for v in versions)
          + (" | reference / now" if len(versions) == 2 else "") + " |")
    print("|---|---|" + "---|---|" * len(versions) + ("---|" if len(versions) == 2 else ""))
    for model in args.models:
        for device in devices:
            measured = {version: _measure(model, device, src) for version, src in versions.items()}
            cells = " | ".join(f"{m['seconds']:.1f} | {m['val_loss']:.4g}" for m in measured.values())
            ratio = (f" | {measured['reference']['seconds'] / measured['now']['seconds']:.2f}×"
                     if len(versions) == 2 else "")
            print(f"| {model} | {device} | {cells}{ratio} |", flush=True)


if __name__ == "__main__":
    main()
