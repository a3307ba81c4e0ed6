"""LaTeX tables for a paper: metrics under their proper names, mean ± std over seeds, the best
value of each column in bold (results conditioned on a scored label marked † and never bold)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from songscape.cluster.consensus import CONSENSUS_PREFIX
from songscape.report.tables import latex_escape

ALGORITHM_NAMES = {"kmeans": "K-Means", "agglomerative": "agglomerative", "dbscan": "DBSCAN",
                   "hdbscan": "HDBSCAN", "spectral": "spectral", "gmm": "GMM"}
LEAK_MARK = r"$^\dagger$"


@dataclass(frozen=True)
class Column:
    """One table column: the results column it reads, its header, which way is better (None:
    neither, nothing bold) and how many decimals it shows."""

    metric: str
    header: str
    higher_is_better: bool | None = True
    digits: int = 3


def paper_text(value: object) -> str:
    """``value`` escaped for LaTeX and limited to what pdfLaTeX's default fonts set: Greek
    letters become math symbols, accented Latin letters stay, other scripts become their
    closest ASCII or ``?`` (a paper names its own runs; this only keeps odd names compiling)."""
    pieces = []
    for character in latex_escape(value):
        if ord(character) < 256:
            pieces.append(character)
            continue
        name = unicodedata.name(character, "")
        if name.startswith(("GREEK SMALL LETTER ", "GREEK CAPITAL LETTER ")):
            letter = name.rsplit(" ", 1)[-1].lower()
            pieces.append(f"$\\{letter.capitalize() if 'CAPITAL' in name else letter}$")
        else:
            ascii_form = unicodedata.normalize("NFKD", character).encode("ascii", "ignore").decode()
            pieces.append(latex_escape(ascii_form) or "?")
    return "".join(pieces)


def algorithm_name(algorithm: str) -> str:
    """The clusterer as a paper writes it; a consensus over seeds says so."""
    if algorithm.startswith(CONSENSUS_PREFIX):
        return "consensus " + algorithm_name(algorithm[len(CONSENSUS_PREFIX):])
    return ALGORITHM_NAMES.get(algorithm, paper_text(algorithm))


def main_columns(label: str | None) -> list[Column]:
    """The main table's columns: the internal metrics in the common input space (comparable
    across representations), then ARI, NMI and purity against ``label`` when there is one."""
    columns = [Column("silhouette_common", r"Silhouette $\uparrow$"),
               Column("calinski_harabasz_common", r"Calinski--Harabasz $\uparrow$", digits=1),
               Column("davies_bouldin_common", r"Davies--Bouldin $\downarrow$", higher_is_better=False, digits=2)]
    if label is not None:
        columns += [Column(f"ari_{label}", r"ARI $\uparrow$"), Column(f"nmi_{label}", r"NMI $\uparrow$"),
                    Column(f"purity_{label}", r"Purity $\uparrow$")]
    return columns


def accuracy_columns(labels: list[str]) -> list[Column]:
    """Hungarian accuracy against each label column."""
    return [Column(f"accuracy_{label}", rf"Accuracy ({paper_text(label)}) $\uparrow$") for label in labels]


def stability_columns() -> list[Column]:
    """Clusters found, coverage, stability over seeds and agreement with the other results."""
    return [Column("n_clusters", "Clusters", higher_is_better=None, digits=1), Column("coverage", r"Coverage $\uparrow$", digits=2),
            Column("stability", r"Stability (ARI) $\uparrow$"), Column("agreement", r"Agreement (NMI) $\uparrow$")]


def _cell(mean: float, std: float, seeds: int, digits: int, bold: bool) -> str:
    if not np.isfinite(mean):
        return "--"
    text = f"{mean:.{digits}f}" + (rf" \pm {std:.{digits}f}" if seeds > 1 and np.isfinite(std) else "")
    return f"$\\mathbf{{{text}}}$" if bold else f"${text}$"


def _best(means: pd.Series, column: Column, eligible: pd.Series) -> float:
    """The best shown value of ``column`` among ``eligible`` rows; NaN when there is none, when
    all of them show the same value (nothing stands out) or the column has no better way."""
    shown = means[eligible & np.isfinite(means)].round(column.digits)
    if shown.nunique() < 2 or column.higher_is_better is None:
        return np.nan
    return float(shown.max() if column.higher_is_better else shown.min())


def latex_table(results: pd.DataFrame, columns: list[Column], caption: str, label: str) -> str:
    """A booktabs table, one row per (representation, algorithm) in the run's order, mean ± std
    over seeds; the best value of each column in bold (ties at the shown precision all bold, none
    when every row ties;
    rows conditioned on a scored label marked † and left out of the bold). Shrinks to the line
    width only when it is wider."""
    columns = [column for column in columns if column.metric in results and results[column.metric].notna().any()]
    grouped = results.groupby(["representation", "algorithm"], sort=False)
    means = grouped[[c.metric for c in columns]].mean()
    stds = grouped[[c.metric for c in columns]].std()
    seeds = grouped.size()
    leaked = (grouped["supervised_leak"].any() if "supervised_leak" in results
              else pd.Series(False, index=means.index)).astype(bool)
    best = {c.metric: _best(means[c.metric], c, ~leaked) for c in columns}
    lines = [r"\begin{table}[htb]", r"\centering", rf"\caption{{{caption}}}", rf"\label{{{label}}}", r"\smallskip", r"\small",
             r"\setlength{\tabcolsep}{4pt}",
             r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%",
             r"\begin{tabular}{ll" + "c" * len(columns) + "}", r"\toprule",
             " & ".join(["Representation", "Clustering", *(c.header for c in columns)]) + r" \\", r"\midrule"]
    previous = None
    for (representation, algorithm), row in means.iterrows():
        if previous is not None and representation != previous:
            lines.append(r"\addlinespace[2pt]")
        name = paper_text(representation) + (LEAK_MARK if leaked[(representation, algorithm)] else "")
        cells = [_cell(row[c.metric], stds.loc[(representation, algorithm), c.metric],
                       int(seeds[(representation, algorithm)]), c.digits,
                       not leaked[(representation, algorithm)] and np.isfinite(row[c.metric])
                       and round(float(row[c.metric]), c.digits) == best[c.metric])
                 for c in columns]
        lines.append(" & ".join([name if representation != previous else "", algorithm_name(algorithm), *cells])
                     + r" \\")
        previous = representation
    lines += [r"\bottomrule", r"\end{tabular}}", r"\end{table}"]
    return "\n".join(lines) + "\n"
