"""Matplotlib figures of a run: latent maps, cluster composition, metric bars, training and
k-selection curves, reconstructions and latent traversals. Text renders with Noto Sans and Noto
Sans Bengali (then DejaVu Sans), glyph by glyph; a text in another script (Devanagari, Chinese,
Japanese, Korean, emoji, runes, …) also gets the fallback font that draws it (Noto Sans
Devanagari, Droid Sans Fallback, Symbola, any Noto Sans script font; Debian: fonts-noto-core,
fonts-droid-fallback, fonts-symbola). A character that no installed font has is a box, and the
first figure with one logs a single notice saying what to install (no warning per glyph).
Negative numbers use an ASCII hyphen, so no font needs U+2212 (log axes too: `PlainLogFormatter`)."""

from __future__ import annotations

import functools
import inspect
import logging
import warnings
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from joblib import hash as inputs_hash  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ft2font import FT2Font  # noqa: E402
from matplotlib.ticker import LogFormatter  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.manifold import TSNE  # noqa: E402
from sklearn.neighbors import NearestNeighbors  # noqa: E402

from songscape.workspace import atomic_path, write_text  # noqa: E402

NOISE_COLOUR = "#bbbbbb"
# every text is drawn with these, in order, glyph by glyph (kept short: matplotlib looks each
# family up for every text it lays out)
FONT_PREFERENCE = ["Noto Sans", "Noto Sans Bengali", "DejaVu Sans"]
# a text with characters those lack also gets the first of these (then any Noto Sans script font) that has them
FALLBACK_FONTS = ["Noto Sans Devanagari", "Droid Sans Fallback", "Symbola"]
FONT_PACKAGES = "fonts-noto-core fonts-droid-fallback fonts-symbola"
_FONT_FILES = ("NotoSans-Regular", "NotoSansBengali-Regular", "NotoSansDevanagari-Regular",
               "DroidSansFallbackFull", "Symbola_hint")
logger = logging.getLogger(__name__)
_missing_glyphs_said: list[str] = []  # the notice is said once per process


def configure_fonts() -> list[str]:
    """Use the installed fonts of ``FONT_PREFERENCE`` and an ASCII minus sign; return the
    fonts. Missing-glyph warnings are silenced: `_fit_fonts` gives a text in another script a
    font that has it, and says once when none does."""
    if not all(_has_font(name) for name in FONT_PREFERENCE + FALLBACK_FONTS):  # installed after matplotlib's cache
        for path in sorted(Path("/usr/share/fonts").glob("**/*.ttf")):
            if path.stem in _FONT_FILES or (path.stem.startswith("NotoSans") and path.stem.endswith("-Regular")):
                font_manager.fontManager.addfont(str(path))
    installed = [name for name in FONT_PREFERENCE if _has_font(name)]
    matplotlib.rcParams["font.family"] = installed or ["DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = False
    warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
    return installed


@functools.lru_cache(maxsize=None)
def _characters_of(families: tuple[str, ...]) -> frozenset[int]:
    """Every code point one of the font ``families`` draws."""
    covered: set[int] = set()
    for family in families:
        path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=True)
        covered.update(FT2Font(path).get_charmap())
    return frozenset(covered)


@functools.lru_cache(maxsize=1)
def _fallback_families() -> tuple[str, ...]:
    """`FALLBACK_FONTS` that are installed, then every other installed Noto Sans font (Runic,
    Thai, Ethiopic, …)."""
    installed = [name for name in FALLBACK_FONTS if _has_font(name)]
    scripts = sorted({font.name for font in font_manager.fontManager.ttflist
                      if font.name.startswith("Noto Sans ") and font.name not in FONT_PREFERENCE + installed})
    return (*installed, *scripts)


def _fit_fonts(figure: plt.Figure) -> None:
    """Give each text of ``figure`` with characters the preferred fonts lack the fallback fonts
    that draw them; say once per process when no installed font does."""
    families = tuple(matplotlib.rcParams["font.family"])
    drawn, missing_anywhere = _characters_of(families), set()
    for text in figure.findobj(matplotlib.text.Text):
        missing = {c for c in text.get_text() if ord(c) not in drawn and c.isprintable() and not c.isspace()}
        if not missing:
            continue
        extra = []
        for family in _fallback_families():
            covered = {c for c in missing if ord(c) in _characters_of((family,))}
            if covered:
                extra.append(family)
                missing -= covered
            if not missing:
                break
        text.set_fontfamily([*families[:-1], *extra, families[-1]])
        missing_anywhere |= missing
    if missing_anywhere and not _missing_glyphs_said:
        _missing_glyphs_said.append(min(missing_anywhere))
        shown = " ".join(f"U+{ord(character):04X}" for character in sorted(missing_anywhere)[:3])
        logger.warning(f"figures have characters no installed font draws ({shown}), so they show as boxes; "
                       f"install fonts that have them (Debian: apt-get install {FONT_PACKAGES})")


def _has_font(name: str) -> bool:
    try:
        font_manager.findfont(font_manager.FontProperties(family=name), fallback_to_default=False)
        return True
    except ValueError:
        return False


configure_fonts()


MAP_FIT_SAMPLE = 10_000  # above this many tracks, 2-D maps are fitted on a seeded sample
_PLACING_NEIGHBOURS = 5


def _map_sample(n: int, random_state: int) -> np.ndarray:
    """Which rows a large map is fitted on: a seeded sample of `MAP_FIT_SAMPLE`, as a mask."""
    chosen = np.zeros(n, dtype=bool)
    chosen[np.random.default_rng(random_state).choice(n, MAP_FIT_SAMPLE, replace=False)] = True
    return chosen


def _fitted_on_sample(embedding: np.ndarray, random_state: int,
                      fit: Callable[[np.ndarray, int], np.ndarray]) -> np.ndarray:
    """``fit(embedding)`` up to `MAP_FIT_SAMPLE` rows; above, ``fit`` on a seeded sample, and
    every other row placed at the mean position of its 5 nearest sampled neighbours (the
    starting point UMAP's own ``transform`` refines; t-SNE has none), so time and memory grow
    linearly beyond the sample."""
    if len(embedding) <= MAP_FIT_SAMPLE:
        return fit(embedding, random_state)
    chosen = _map_sample(len(embedding), random_state)
    coordinates = np.empty((len(embedding), 2))
    coordinates[chosen] = fit(embedding[chosen], random_state)
    coordinates[~chosen] = place_by_neighbours(embedding[chosen], coordinates[chosen], embedding[~chosen])
    return coordinates


def place_by_neighbours(known: np.ndarray, known_coordinates: np.ndarray, new: np.ndarray) -> np.ndarray:
    """2-D positions for the rows of ``new``: the mean position of each one's 5 nearest
    ``known`` rows (in the embedding), whose positions are ``known_coordinates``."""
    if len(new) == 0:
        return np.empty((0, 2))
    neighbours = NearestNeighbors(n_neighbors=min(_PLACING_NEIGHBOURS, len(known))).fit(known)
    nearest = neighbours.kneighbors(new, return_distance=False)
    return known_coordinates[nearest].mean(axis=1)


class FigureSkipped(ValueError):
    """A figure that cannot be drawn from this data; the message says why in one line."""


def _check_spread(embedding: np.ndarray) -> None:
    """Refuse an embedding a map cannot be made of (t-SNE divides by its spread, and
    scikit-learn's Barnes-Hut code crashes the process on the NaN that follows)."""
    if len(embedding) < 3:
        raise FigureSkipped(f"only {len(embedding)} tracks have an embedding")
    if not np.isfinite(embedding).all():
        raise FigureSkipped("the embedding has NaN or infinite values")
    if float(np.ptp(embedding, axis=0).max()) <= 1e-9 * (1.0 + float(np.abs(embedding).max())):
        raise FigureSkipped(f"all {len(embedding)} tracks have the same embedding")


def _tsne(embedding: np.ndarray, random_state: int) -> np.ndarray:
    perplexity = float(min(30.0, max(2.0, (len(embedding) - 1) / 3)))
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=random_state
                ).fit_transform(embedding.astype(np.float64))


def map_2d(embedding: np.ndarray, random_state: int = 0) -> np.ndarray:
    """Seeded t-SNE of ``embedding`` to two dimensions (PCA initialisation; fitted on a sample
    above `MAP_FIT_SAMPLE` tracks); `FigureSkipped` when the tracks do not spread."""
    _check_spread(embedding)
    if embedding.shape[1] <= 2:
        return np.pad(embedding, ((0, 0), (0, 2 - embedding.shape[1])))
    return _fitted_on_sample(embedding, random_state, _tsne)


def _umap(embedding: np.ndarray, random_state: int) -> np.ndarray:
    """UMAP on exact nearest neighbours from a k-d tree: umap-learn would otherwise compute
    all pairwise distances through a Python callback below 4 096 points (~30 s at 4 000) and
    compile NN-descent above (~1 min)."""
    import umap  # imported here: numba compiles on first import

    values = embedding.astype(np.float32)
    n_neighbors = min(15, len(values) - 1)
    distances, indices = NearestNeighbors(n_neighbors=n_neighbors).fit(values).kneighbors(values)
    with warnings.catch_warnings():  # "transform will be unavailable": not needed
        warnings.filterwarnings("ignore", message="precomputed_knn", category=UserWarning)
        reducer = umap.UMAP(n_components=2, n_neighbors=n_neighbors, min_dist=0.1, random_state=random_state,
                            n_jobs=1, precomputed_knn=(indices, distances.astype(np.float32), None))
        return reducer.fit_transform(values)


def umap_2d(embedding: np.ndarray, random_state: int = 0) -> np.ndarray:
    """Seeded UMAP of ``embedding`` to two dimensions (deterministic, single-threaded; fitted
    on a sample above `MAP_FIT_SAMPLE` tracks); `FigureSkipped` when the tracks do not spread."""
    _check_spread(embedding)
    if len(embedding) < 4 or embedding.shape[1] <= 2:
        return np.pad(embedding[:, :2], ((0, 0), (0, max(0, 2 - embedding.shape[1]))))
    return _fitted_on_sample(embedding, random_state, _umap)


def pca_2d(embedding: np.ndarray) -> np.ndarray:
    """The first two principal components of ``embedding`` (exact, so deterministic): the
    cheap map of the comparison figures."""
    _check_spread(embedding)
    if embedding.shape[1] <= 2:
        return np.pad(embedding, ((0, 0), (0, 2 - embedding.shape[1])))
    return PCA(n_components=2, svd_solver="full").fit_transform(embedding.astype(np.float64))


DRAWN_KEYS = ".drawn"  # beside the figures: one file per figure with the hash of what it was drawn from
_DRAWING_CODE = inputs_hash(Path(__file__).read_bytes())  # a figure drawn by other code is drawn again


def redrawn_on_change(plot: Callable[..., None]) -> Callable[..., None]:
    """Decorate a ``plot_*(…, path)`` function so that it draws only when ``path`` is missing or
    was drawn from other inputs: a hash of its arguments (and of this module's code) is kept in
    `DRAWN_KEYS` beside the figure."""
    signature = inspect.signature(plot)

    @functools.wraps(plot)
    def draw(*args: object, **kwargs: object) -> None:
        arguments = signature.bind(*args, **kwargs).arguments
        path = Path(arguments.pop("path"))
        key = inputs_hash((_DRAWING_CODE, plot.__name__, arguments))
        record = path.parent / DRAWN_KEYS / f"{path.name}.key"
        if path.exists() and record.exists() and record.read_text(encoding="utf-8") == key:
            return
        plot(*args, **kwargs)
        write_text(record, key)

    return draw


def _save(figure: plt.Figure, path: Path, tight: bool = False) -> None:
    """Write ``figure`` in the format its suffix names (PNG, or PDF with embedded TrueType fonts
    for papers), atomically, and close it: texts in other scripts get their fonts first
    (`_fit_fonts`), then, with ``tight``, the layout is fitted to them."""
    _fit_fonts(figure)
    if tight:
        with warnings.catch_warnings():  # long labels: the layout stays as drawn, said by no one
            warnings.filterwarnings("ignore", message="Tight layout not applied")
            figure.tight_layout()
    with atomic_path(path) as tmp:
        with matplotlib.rc_context({"pdf.fonttype": 42}):  # TrueType in PDFs: text stays text
            figure.savefig(tmp, format=path.suffix.lstrip(".").lower(), dpi=110, bbox_inches="tight")
    plt.close(figure)


@redrawn_on_change
def plot_latent_map(coordinates: np.ndarray, colourings: dict[str, np.ndarray], title: str,
                    path: Path) -> None:
    """One scatter panel per colouring (cluster, then each label column); noise in grey."""
    figure, axes = plt.subplots(1, len(colourings), figsize=(4.6 * len(colourings), 4.4),
                                squeeze=False)
    palette = plt.get_cmap("tab10" if max(len(set(v)) for v in colourings.values()) <= 10 else "tab20")
    for axis, (name, values) in zip(axes[0], colourings.items()):
        values = pd.Series(values, dtype=object).fillna("(missing)").astype(str).to_numpy()
        for index, value in enumerate(sorted(set(values))):
            chosen = values == value
            colour = NOISE_COLOUR if value == "-1" else palette(index % palette.N)
            axis.scatter(coordinates[chosen, 0], coordinates[chosen, 1], s=12, color=colour,
                         label="noise" if value == "-1" else value, alpha=0.85, linewidths=0)
        axis.set_title(f"coloured by {name}")
        axis.set_xticks([])
        axis.set_yticks([])
        axis.legend(fontsize=7, markerscale=1.5, loc="best", frameon=False)
    figure.suptitle(title)
    _save(figure, path)


@redrawn_on_change
def plot_map_grid(panels: dict[str, tuple[np.ndarray, np.ndarray]], colouring: str, title: str,
                  path: Path) -> None:
    """Small maps side by side, one per name in ``panels`` (its 2-D coordinates and a value per
    point), four to a row; equal values share a colour across panels, noise in grey."""
    columns = min(4, len(panels))
    rows = -(-len(panels) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.0 * columns, 3.0 * rows), squeeze=False)
    texts = {name: pd.Series(values, dtype=object).fillna("(missing)").astype(str).to_numpy()
             for name, (_, values) in panels.items()}
    every_value = sorted(set().union(*(set(values) for values in texts.values())) - {"-1"})
    palette = plt.get_cmap("tab10" if len(every_value) <= 10 else "tab20")
    colour_of = {value: palette(index % palette.N) for index, value in enumerate(every_value)} | {"-1": NOISE_COLOUR}
    for axis, (name, (coordinates, _)) in zip(axes.flat, panels.items()):
        axis.scatter(coordinates[:, 0], coordinates[:, 1], s=5, c=[colour_of[v] for v in texts[name]],
                     alpha=0.85, linewidths=0)
        axis.set_title(name, fontsize=9)
    for axis in axes.flat:
        axis.set_xticks([])
        axis.set_yticks([])
    for axis in list(axes.flat)[len(panels):]:
        axis.set_axis_off()
    if len(every_value) <= 20:
        handles = [plt.Line2D([], [], marker="o", linestyle="", color=colour_of[v], label=v) for v in every_value]
        figure.legend(handles=handles, fontsize=7, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    figure.suptitle(f"{title}, coloured by {colouring}")
    _save(figure, path, tight=True)


@redrawn_on_change
def plot_metric_bars(results: pd.DataFrame, metrics: list[str], path: Path) -> None:
    """Mean ± std over seeds of each metric, one bar per representation × algorithm."""
    grouped = results.groupby(["representation", "algorithm"], sort=False)[metrics]
    mean, std = grouped.mean(), grouped.std().fillna(0.0)
    names = [f"{r}\n{a}" for r, a in mean.index]
    figure, axes = plt.subplots(1, len(metrics), figsize=(max(4.0, 1.1 * len(names)) * len(metrics) / 1.6, 3.8),
                                squeeze=False)
    for axis, metric in zip(axes[0], metrics):
        axis.bar(range(len(names)), mean[metric], yerr=std[metric], capsize=3, color="#4c72b0")
        axis.set_xticks(range(len(names)), names, fontsize=8)
        axis.set_title(metric)
    _save(figure, path, tight=True)


@redrawn_on_change
def plot_composition(clusters: np.ndarray, labels: dict[str, np.ndarray], title: str, path: Path) -> None:
    """Stacked bars: for each cluster, how its tracks split over each label column's values."""
    figure, axes = plt.subplots(1, len(labels), figsize=(6.4 * len(labels), 3.8), squeeze=False)
    names = ["noise" if c < 0 else f"cluster {c}" for c in clusters]
    for axis, (column, values) in zip(axes[0], labels.items()):
        values = pd.Series(values, dtype=object).fillna("(missing)").astype(str)
        table = pd.crosstab(pd.Series(names, name="cluster"), values.rename(column))
        bottom = np.zeros(len(table))
        palette = plt.get_cmap("tab10" if table.shape[1] <= 10 else "tab20")
        for index, value in enumerate(table.columns):
            axis.bar(table.index, table[value], bottom=bottom, label=value, color=palette(index % palette.N))
            bottom += table[value].to_numpy()
        axis.set_title(f"clusters × {column}")
        axis.set_ylabel("tracks")
        axis.tick_params(axis="x", labelrotation=30, labelsize=8)
        axis.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    figure.suptitle(title)
    _save(figure, path, tight=True)


class PlainLogFormatter(LogFormatter):
    """Log-axis ticks as plain numbers with an ASCII minus (0.01, 1e-05): matplotlib's default
    writes them in mathtext, whose minus sign (U+2212) Noto Sans lacks."""

    def _num_to_string(self, x: float, vmin: float, vmax: float) -> str:
        return f"{x:g}"


@redrawn_on_change
def plot_training_curves(histories: dict[str, pd.DataFrame], path: Path) -> None:
    """Training and validation loss per epoch, one panel per model (log scale)."""
    figure, axes = plt.subplots(1, len(histories), figsize=(3.6 * len(histories), 3.2), squeeze=False)
    for axis, (name, history) in zip(axes[0], histories.items()):
        epochs = np.arange(len(history))  # rows in order (VaDE: pre-training, then its restart)
        for column, style in (("train_loss", "-"), ("val_loss", "--o")):
            if column in history:  # validation: only the validated epochs
                measured = history[column].notna().to_numpy()
                axis.plot(epochs[measured], history[column][measured], style, markersize=2,
                          label=column.split("_")[0])
        axis.set_yscale("log")
        axis.yaxis.set_major_formatter(PlainLogFormatter())
        axis.yaxis.set_minor_formatter(PlainLogFormatter())
        axis.set_title(name, fontsize=9)
        axis.set_xlabel("epoch")
        axis.legend(fontsize=7, frameon=False)
    _save(figure, path, tight=True)


@redrawn_on_change
def plot_k_selection(curves: pd.DataFrame, path: Path) -> None:
    """The score behind each automatic k (silhouette: higher is better; BIC: lower), per
    representation, one panel per algorithm."""
    algorithms = list(dict.fromkeys(curves["algorithm"]))
    figure, axes = plt.subplots(1, len(algorithms), figsize=(4.2 * len(algorithms), 3.4), squeeze=False)
    for axis, algorithm in zip(axes[0], algorithms):
        chosen = curves[curves["algorithm"] == algorithm]
        for representation, group in chosen.groupby("representation", sort=False):
            mean = group.groupby("k")["score"].mean()
            axis.plot(mean.index, mean.to_numpy(), marker="o", markersize=3, label=representation)
        axis.set_title(f"{algorithm} ({chosen['criterion'].iloc[0]})", fontsize=9)
        axis.set_xlabel("k")
        axis.legend(fontsize=7, frameon=False)
    _save(figure, path, tight=True)


@redrawn_on_change
def plot_reconstructions(originals: np.ndarray, reconstructions: np.ndarray, names: list[str],
                         title: str, path: Path) -> None:
    """Original log-mel patches (top row) above their reconstructions (bottom row), in dB."""
    figure, axes = plt.subplots(2, len(originals), figsize=(2.6 * len(originals), 4.2), squeeze=False)
    low, high = np.percentile(originals, [1, 99])
    for column, (original, rebuilt, name) in enumerate(zip(originals, reconstructions, names)):
        for row, patch in enumerate((original, rebuilt)):
            axis = axes[row, column]
            axis.imshow(patch, origin="lower", aspect="auto", cmap="magma", vmin=low, vmax=high)
            axis.set_xticks([])
            axis.set_yticks([])
        axes[0, column].set_title(name, fontsize=8)
    axes[0, 0].set_ylabel("original")
    axes[1, 0].set_ylabel("reconstruction")
    figure.suptitle(title)
    _save(figure, path, tight=True)


@redrawn_on_change
def plot_traversals(traversals: dict[int, np.ndarray], values: np.ndarray, feature_names: list[str] | None,
                    title: str, path: Path) -> None:
    """Decoded outputs while one latent dimension is swept. Mel patches (steps, mels, frames)
    show as a row of images per dimension; feature vectors (steps, features) as a heatmap of
    the change from the middle step, for the features that move most."""
    dimensions = list(traversals)
    is_patch = next(iter(traversals.values())).ndim == 3
    if is_patch:
        figure, axes = plt.subplots(len(dimensions), len(values), figsize=(1.6 * len(values), 1.5 * len(dimensions)),
                                    squeeze=False)
        for row, dimension in enumerate(dimensions):
            for column, patch in enumerate(traversals[dimension]):
                axes[row, column].imshow(patch, origin="lower", aspect="auto", cmap="magma")
                axes[row, column].set_xticks([])
                axes[row, column].set_yticks([])
                if row == 0:
                    axes[row, column].set_title(f"{values[column]:+.1f}", fontsize=8)
            axes[row, 0].set_ylabel(f"z{dimension}", fontsize=8)
    else:
        figure, axes = plt.subplots(1, len(dimensions), figsize=(4.0 * len(dimensions), 3.6), squeeze=False)
        for axis, dimension in zip(axes[0], dimensions):
            decoded = traversals[dimension]
            change = decoded - decoded[len(decoded) // 2]
            scale = np.abs(change).max(axis=0)
            top = np.argsort(scale)[::-1][:12]
            axis.imshow(change[:, top].T / (scale[top][:, None] + 1e-12), cmap="coolwarm", vmin=-1, vmax=1,
                        aspect="auto")
            axis.set_xticks(range(len(values)), [f"{v:+.1f}" for v in values], fontsize=7)
            names = [feature_names[i] if feature_names else str(i) for i in top]
            axis.set_yticks(range(len(top)), names, fontsize=6)
            axis.set_title(f"z{dimension} swept", fontsize=9)
    figure.suptitle(title)
    _save(figure, path, tight=True)
