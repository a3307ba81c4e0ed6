"""Result tables: mean ± std over seeds, for the terminal, the HTML report and Markdown."""

from __future__ import annotations

import numpy as np
import pandas as pd

from songscape.cluster.metrics import INTERNAL
from songscape.plaintext import printable


def headline_metrics(label_columns: list[str]) -> list[str]:
    """Metric columns shown in summaries: cluster count, coverage, internal metrics (silhouette
    also in the common input space), NMI and ARI per label column, stability over seeds and
    agreement with the run's other results (the label-free choice of the best)."""
    return ["n_clusters", "coverage", "silhouette", "silhouette_common", *INTERNAL[1:],
            *(f"{name}_{column}" for column in label_columns for name in ("nmi", "ari")), "stability",
            "agreement"]


def summarize(results: pd.DataFrame, metrics: list[str], digits: int = 3) -> pd.DataFrame:
    """Mean ± std over seeds per (representation, algorithm), one text cell per metric."""
    metrics = [metric for metric in metrics if metric in results]  # older runs lack newer columns
    grouped = results.groupby(["representation", "algorithm"], sort=False)
    summary = grouped[metrics].agg(["mean", "std"])
    table = pd.DataFrame(index=summary.index)
    for metric in metrics:
        mean, std = summary[(metric, "mean")], summary[(metric, "std")].fillna(0.0)
        table[metric] = [f"{m:.{digits}f} ± {s:.{digits}f}" if np.isfinite(m) else "n/a"
                         for m, s in zip(mean, std)]
    table["seeds"] = grouped.size()
    return table.reset_index()


def _leaked(results: pd.DataFrame) -> pd.Series:
    """Per row: the result comes from a model conditioned on a scored label."""
    if "supervised_leak" not in results:
        return pd.Series(False, results.index)
    return results["supervised_leak"].astype(bool)


def _ranking_metric(results: pd.DataFrame) -> str:
    """``agreement``, or common-space silhouette for runs written before that column existed."""
    return "agreement" if "agreement" in results and results["agreement"].notna().any() else "silhouette_common"


def ranked_results(results: pd.DataFrame) -> list[tuple[str, str]]:
    """(representation, algorithm) pairs, best first, chosen without labels: by mean
    ``agreement`` (how well its clusters agree with the run's other clusterings, over seeds;
    each input one vote when there are several), then by common-space silhouette for runs written before that column existed.
    Results conditioned on a scored label come last."""
    grouped = results.assign(leak=_leaked(results)).groupby(["representation", "algorithm"], sort=False)
    score = grouped[_ranking_metric(results)].mean().fillna(-np.inf) - np.where(grouped["leak"].any(), np.inf, 0.0)
    return list(score.sort_values(ascending=False, kind="stable").index)


def best_result(results: pd.DataFrame) -> tuple[str, str]:
    """The first of `ranked_results`."""
    return ranked_results(results)[0]


def choice_note(results: pd.DataFrame, label_columns: list[str]) -> str:
    """One sentence on how the best result was chosen and, where labels exist, how it scores
    against the result that the first label would have chosen."""
    representation, algorithm = best_result(results)
    how = ("its clusters agree best with the run's other clusterings (mean NMI over seeds, each input one vote)"
           if _ranking_metric(results) == "agreement" else "highest silhouette in the common input space")
    note = f"{representation} + {algorithm} was chosen without labels: {how}."
    column = f"nmi_{label_columns[0]}" if label_columns else None
    if column is None or column not in results:
        return note
    means = results[~_leaked(results)].groupby(["representation", "algorithm"], sort=False)[column].mean()
    if (representation, algorithm) not in means or means.isna().all():
        return note
    top = means.idxmax()
    return (note + f" Scored by {label_columns[0]}: NMI {means[(representation, algorithm)]:.2f}; "
            f"the best by that label is {top[0]} + {top[1]} ({means[top]:.2f}).")


_MARKDOWN_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", **{c: "\\" + c for c in "\\`*_[]|#"}}


def markdown_text(value: object) -> str:
    """``value`` as Markdown text that shows as it is: `printable` on one line, HTML (``<b>``)
    and Markdown's own marks (``*``, ``_``, ``|``, …) escaped."""
    return "".join(_MARKDOWN_ESCAPES.get(character, character) for character in printable(value, one_line=True))


def to_markdown(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table, each cell `markdown_text`."""
    cell = markdown_text
    header = "| " + " | ".join(cell(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows]) + "\n"


_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def latex_escape(text: object) -> str:
    """``text`` (`printable`, on one line) with LaTeX's special characters escaped; ± becomes $\\pm$."""
    escaped = "".join(_LATEX_SPECIAL.get(character, character) for character in printable(text, one_line=True))
    return escaped.replace("±", r"$\pm$")


def to_latex(frame: pd.DataFrame, caption: str, label: str) -> str:
    """A booktabs table environment with escaped cells, ready for \\input in a paper."""
    align = "ll" + "r" * (len(frame.columns) - 2)
    lines = [r"\begin{table}[t]", r"\centering", rf"\caption{{{latex_escape(caption)}}}",
             rf"\label{{{label}}}", r"\resizebox{\linewidth}{!}{%", rf"\begin{{tabular}}{{{align}}}",
             r"\toprule", " & ".join(latex_escape(c) for c in frame.columns) + r" \\", r"\midrule"]
    lines += [" & ".join(latex_escape(v) for v in row) + r" \\" for row in frame.itertuples(index=False)]
    lines += [r"\bottomrule", r"\end{tabular}}", r"\end{table}"]
    return "\n".join(lines) + "\n"
