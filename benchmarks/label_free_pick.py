"""Which label-free rule picks the best result? Candidate rules measured on saved runs, leaving one run out.

    .venv/bin/python benchmarks/label_free_pick.py \
        /work/data/real-quality/debian-music-xl:source /work/data/real-quality/jamendo-cc-20:tag \
        songscape-runs/demo:style ...

Each argument is a run folder (written by `songscape run`, `songscape demo` or
`benchmarks/real_quality.py`) and the label its results are scored by. Every rule scores each
(representation, algorithm) from the run's clusterings alone; the pick is the highest score, and
its quality is its NMI by the label over the best NMI of the run (results conditioned on a scored
label left out of both). Leave one out: for each run, the rule with the best mean quality on the
other runs is chosen and reported on the one left out, so a rule tuned where it is judged cannot
look better than it is.

Rules (the NMI of two clusterings as in `songscape.cluster.metrics.agreement_matrix`; a
consensus over seeds counts once):
- ``agreement``: mean NMI with every other clustering (the rule before this benchmark);
- ``by-representation``: the other representations' mean NMIs, each representation one vote;
- ``by-input``: each input one vote (the mean over its representations' clusterings), the
  labeling's own representation left out;
- ``input-balanced``: each input one vote (the mean NMI with its clusterings), nothing left out
  but the labeling itself: ``agreement`` when every result reads one input;
- ``other-inputs``: as ``by-input`` with the labeling's whole input left out (all inputs when
  there is only one);
- ``agreement-x-stability``: ``agreement`` times the result's stability over seeds;
- ``songscape``: the rule runs now use (`songscape.cluster.metrics.agreement` with the inputs):
  ``by-input`` when the results read two inputs or more, ``agreement`` when they read one
  (with one input there is nothing to balance, and ``by-input`` would leave each result
  compared only with the other representations).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from songscape.cluster.consensus import CONSENSUS_PREFIX
from songscape.cluster.metrics import agreement, agreement_matrix
from songscape.workspace import Workspace

Key = tuple[str, str, int]  # (representation, algorithm, seed)


def run_labelings(workspace: Workspace, results: pd.DataFrame) -> dict[Key, np.ndarray]:
    """Every clustering of the run's results not conditioned on a scored label; a consensus
    over seeds once, under its first seed."""
    fair = results[~results["supervised_leak"].astype(bool)]
    labelings = {}
    for (representation, algorithm), rows in fair.groupby(["representation", "algorithm"], sort=False):
        labels = pd.read_parquet(workspace.labels(representation, algorithm))
        seeds = sorted(rows["seed"].astype(int))
        for seed in seeds[:1] if algorithm.startswith(CONSENSUS_PREFIX) else seeds:
            labelings[(representation, algorithm, seed)] = labels[f"seed_{seed}"].to_numpy()
    return labelings


def _voted(keys: list[Key], matrix: np.ndarray, voter: Callable[[Key], str],
           left_out: Callable[[Key, Key], bool]) -> np.ndarray:
    """Per labeling: the mean over voters of the mean NMI with that voter's labelings, leaving
    out the labelings ``left_out`` says (at least the labeling itself)."""
    scores = np.zeros(len(keys))
    for i, key in enumerate(keys):
        by_voter: dict[str, list[float]] = {}
        for j, other in enumerate(keys):
            if i != j and not left_out(key, other):
                by_voter.setdefault(voter(other), []).append(matrix[i, j])
        scores[i] = np.mean([np.mean(values) for values in by_voter.values()]) if by_voter else np.nan
    return scores


def rule_scores(labelings: dict[Key, np.ndarray], inputs: dict[str, str],
                stability: dict[tuple[str, str], float]) -> tuple[list[Key], dict[str, np.ndarray]]:
    """The labelings' keys and every rule's score of every labeling."""
    keys, matrix = agreement_matrix(labelings)
    def same_representation(key: Key, other: Key) -> bool:
        return key[0] == other[0]

    def same_input(key: Key, other: Key) -> bool:
        return inputs[key[0]] == inputs[other[0]] and len(set(inputs.values())) > 1

    plain = _voted(keys, matrix, lambda other: f"{other}", lambda key, other: False)
    chosen = agreement(labelings, {key: inputs[key[0]] for key in keys})
    return keys, {
        "agreement": plain,
        "by-representation": _voted(keys, matrix, lambda other: other[0], same_representation),
        "by-input": _voted(keys, matrix, lambda other: inputs[other[0]], same_representation),
        "input-balanced": _voted(keys, matrix, lambda other: inputs[other[0]], lambda key, other: False),
        "other-inputs": _voted(keys, matrix, lambda other: inputs[other[0]],
                               lambda key, other: same_representation(key, other) or same_input(key, other)),
        "agreement-x-stability": plain * np.array([np.nan_to_num(stability[key[:2]], nan=1.0) for key in keys]),
        "songscape": np.array([chosen[key] for key in keys]),
    }


def evaluate_run(folder: Path, label: str) -> pd.DataFrame:
    """Per rule: its pick on the run, the pick's NMI and its share of the run's best NMI."""
    workspace = Workspace(folder)
    results = pd.read_parquet(workspace.results_parquet)
    column = f"nmi_{label}"
    fair = results[~results["supervised_leak"].astype(bool)]
    nmi = fair.groupby(["representation", "algorithm"], sort=False)[column].mean()
    stability = fair.groupby(["representation", "algorithm"], sort=False)["stability"].mean().to_dict()
    inputs = dict(zip(fair["representation"], fair["input"]))
    keys, scores_by_rule = rule_scores(run_labelings(workspace, results), inputs, stability)
    rows = []
    for rule, scores in scores_by_rule.items():
        per_result = pd.Series(scores, index=pd.MultiIndex.from_tuples(keys)).groupby(level=[0, 1], sort=False).mean()
        pick = per_result.idxmax()
        rows.append({"run": folder.name, "rule": rule, "pick": f"{pick[0]} + {pick[1]}", "nmi": nmi[pick],
                     "best": nmi.max(), "quality": nmi[pick] / nmi.max()})
    return pd.DataFrame(rows)


def leave_one_out(table: pd.DataFrame) -> pd.DataFrame:
    """For each run: the rule with the best mean quality on the other runs (ties: the first
    rule), and its quality on this run."""
    rules = list(dict.fromkeys(table["rule"]))
    rows = []
    for run in dict.fromkeys(table["run"]):
        others = table[table["run"] != run].groupby("rule")["quality"].mean().reindex(rules)
        chosen = others.idxmax()
        mine = table[(table["run"] == run) & (table["rule"] == chosen)].iloc[0]
        rows.append({"left out": run, "rule chosen on the others": chosen, "its mean there": others[chosen],
                     "pick here": mine["pick"], "quality here": mine["quality"]})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="RUN_FOLDER:LABEL")
    args = parser.parse_args()
    table = pd.concat([evaluate_run(Path(folder), label)
                       for folder, label in (run.rsplit(":", 1) for run in args.runs)], ignore_index=True)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print("\n## quality per rule (pick NMI / best NMI)")
    print(table.pivot(index="run", columns="rule", values="quality").to_string(float_format=lambda v: f"{v:.3f}"))
    print("\n## leave one run out")
    print(leave_one_out(table).to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
