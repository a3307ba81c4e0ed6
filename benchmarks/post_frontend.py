"""Everything after the front-end of a finished run, timed: the run's grid is run again on a
copy of its folder whose features (audio memmaps, per-track and per-text caches) are kept and
whose models, embeddings, labels, layouts and report are removed, so models, clustering, the
report and the map are done again and nothing else. With ``--reference-src`` the same is done
with another checkout's code (``git worktree add ../ref <commit>``, then ``--reference-src
../ref/src``) in the same run, and the ratio printed. Per version: wall time per stage (start-up
with the cached front-end, the grid, the report and map), and per representation its fit and
clustering seconds (sum over seeds, from ``results.parquet``; fits run in parallel, so their
sum exceeds the grid's wall time). Each version's grid, report and map are also given in units
of a fixed plain PyTorch training loop timed in the same run (`fixed_loop_seconds`), so that runs
on different machines compare.

    .venv/bin/python benchmarks/post_frontend.py --run songscape-runs/clips-1000 [--reference-src ../ref/src]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from code_versions import code_versions  # benchmarks/ is on the path when a benchmark runs

REDONE = ("models", "embeddings", "labels", "clusters", "layouts", "report", "results.csv", "results.parquet",
          "k_selection.parquet", "map.html")
FRONT_END_DONE = ("audio features:", "audio features +", "lyrics features")  # a front-end stage's last line
GRID_DONE = "models:"  # printed once every representation is fitted, clustered and scored


def prepared_copy(run: Path, target: Path) -> None:
    """``run`` copied to ``target`` without what the post-front-end stages write."""
    shutil.copytree(run, target, ignore=lambda folder, names: [n for n in names if Path(folder) == run
                                                                and n in REDONE])


def timed_run(run: Path, src: Path, work: Path) -> tuple[dict[str, float], pd.DataFrame]:
    """Run the grid of ``run`` again on a prepared copy under ``work`` with the code in
    ``src``; wall seconds per stage (start-up and the cached front-end, the grid, the report and
    map, and the whole run) and the results."""
    record = json.loads((run / "run.json").read_text(encoding="utf-8"))
    copy = work / "run"
    prepared_copy(run, copy)
    config = work / "config.yaml"
    config.write_text(record["config_yaml"], encoding="utf-8")
    command = [sys.executable, "-m", "songscape", "run", "--config", str(config), "--workspace", str(copy),
               "--name", record["name"]]
    command += ["--audio", record["audio_dir"]] if record.get("audio_dir") else []
    command += ["--table", record["table"]] if record.get("table") else []
    environment = {**os.environ, "PYTHONPATH": str(src)}
    started = time.perf_counter()
    front_end_done = grid_done = started
    with subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True) as process:
        for line in process.stdout:
            print(f"    {line.rstrip()}", flush=True)
            if line.startswith(FRONT_END_DONE) and "/s" not in line:
                front_end_done = time.perf_counter()
            if line.startswith(GRID_DONE):
                grid_done = time.perf_counter()
    if process.returncode:
        raise SystemExit(f"the run with {src} failed (exit {process.returncode})")
    ended = time.perf_counter()
    stages = {"start-up and front-end s": front_end_done - started, "grid s": grid_done - front_end_done,
              "report and map s": ended - grid_done, "whole run s": ended - started}
    return stages, pd.read_parquet(copy / "results.parquet")


def fixed_loop_seconds(epochs: int = 10) -> float:
    """Seconds of a fixed plain PyTorch training loop on one thread: an MLP autoencoder
    174 → 128 → 64 → 8 → 64 → 128 → 174 (the demo's segment statistics are 174 wide) on
    8 000 random rows, Adam, batch 256, ``epochs`` epochs (320 steps by default), MSE."""
    import torch
    from torch import nn

    torch.set_num_threads(1)
    torch.manual_seed(0)
    rows = torch.randn(8000, 174)
    widths = [174, 128, 64, 8, 64, 128, 174]
    layers: list[nn.Module] = []
    for inputs, outputs in zip(widths, widths[1:]):
        layers += [nn.Linear(inputs, outputs), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    started = time.perf_counter()
    for _ in range(epochs):
        for batch in rows[torch.randperm(len(rows))].split(256):
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(batch), batch)
            loss.backward()
            optimizer.step()
    return time.perf_counter() - started


def per_representation(results: pd.DataFrame) -> pd.DataFrame:
    """Fit and clustering seconds per representation, summed over seeds."""
    fits = results.drop_duplicates(["representation", "seed"]).groupby("representation", sort=False)["fit_seconds"]
    return pd.DataFrame({"fit s": fits.sum(),
                         "cluster s": results.groupby("representation", sort=False)["cluster_seconds"].sum()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, required=True, help="a finished run whose features are cached")
    parser.add_argument("--reference-src", type=Path, help="src/ of the checkout to compare against")
    args = parser.parse_args()
    versions = code_versions(args.reference_src)
    loop = fixed_loop_seconds()
    print(f"fixed PyTorch loop: {loop:.2f} s", flush=True)
    measured = {}
    for version, src in versions.items():
        print(f"{version}: {src}", flush=True)
        with tempfile.TemporaryDirectory(prefix="post-frontend-") as work:
            measured[version] = timed_run(args.run.resolve(), src, Path(work))
    stages = pd.DataFrame({version: times for version, (times, _) in measured.items()}).T
    sums = {version: per_representation(results).sum() for version, (_, results) in measured.items()}
    stages["fits s (sum)"] = [sums[version]["fit s"] for version in stages.index]
    stages["clustering s (sum)"] = [sums[version]["cluster s"] for version in stages.index]
    stages["grid, report and map / fixed loop"] = (stages["grid s"] + stages["report and map s"]) / loop
    print("\n" + stages.round(1).to_string())
    if len(measured) == 2:
        print(f"\nwhole run, reference / now: {stages['whole run s'].iloc[0] / stages['whole run s'].iloc[1]:.2f}×")
    tables = {version: per_representation(results) for version, (_, results) in measured.items()}
    print("\n" + pd.concat(tables, axis=1).round(1).to_string())


if __name__ == "__main__":
    main()
