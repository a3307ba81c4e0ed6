"""A conditional VAE: a categorical column (one-hot) enters both encoder and decoder, so the
code is free to describe what the condition does not."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from songscape.models.base import as_segments
from songscape.models.nets import mlp, split_posterior
from songscape.models.training import Batch
from songscape.models.vae import VAE

MISSING = "(missing)"  # the category of an empty condition value


def condition_values(condition: Sequence[Any]) -> list[str]:
    """Condition values as category names; empty values become their own category."""
    return [MISSING if pd.isna(value) or str(value).strip() == "" else str(value)
            for value in condition]


class _CVAENet(nn.Module):
    def __init__(self, n_features: int, n_categories: int, hidden: tuple[int, ...],
                 latent_dim: int) -> None:
        super().__init__()
        self.encoder = mlp([n_features + n_categories, *hidden, 2 * latent_dim])
        self.decoder = mlp([latent_dim + n_categories, *reversed(hidden), n_features])

    def posterior(self, inputs: torch.Tensor, condition: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return split_posterior(self.encoder(torch.cat([inputs, condition], dim=1)))

    def decode(self, code: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        return self.decoder(torch.cat([code, condition], dim=1))


class CVAE(VAE):
    """Gaussian VAE conditioned on a categorical column given to `fit` as ``condition``.

    `transform(X, condition)` encodes with the true condition of each row: the code then
    holds what the condition does not explain. `transform(X)` without a condition
    marginalises it: the posterior means under every category seen in `fit`, averaged with
    the categories' training frequencies. A condition value not seen in `fit` is an error.
    Results scored against the conditioning column are supervised; the experiment flags them
    (``supervised_leak``).
    """

    kind = "cvae"

    def fit(self, X: np.ndarray, condition: Sequence[Any] | None = None) -> CVAE:
        """Learn from X (n_samples, n_features) and one condition value per row."""
        if condition is None:
            raise ValueError("CVAE.fit needs a condition: one category per row of X")
        return self._fit({"X": X, "condition": condition})

    def transform(self, X: np.ndarray, condition: Sequence[Any] | None = None) -> np.ndarray:
        """Posterior means given each row's condition, or marginalised over the training
        categories when ``condition`` is None."""
        if condition is not None:
            return self._transform({"X": X, "condition": condition})
        categories, weights = self.shape_["categories"], self.shape_["category_weights"]
        codes = [self._transform({"X": X, "condition": [category] * len(X)}) for category in categories]
        return np.tensordot(np.asarray(weights, dtype=np.float32), np.stack(codes), axes=1)

    def reconstruct(self, X: np.ndarray, condition: Sequence[Any] | None = None) -> np.ndarray:
        """Decoder output given each row's condition, in the units of X."""
        if condition is None:
            raise ValueError("CVAE.reconstruct needs the condition of each row")
        return self._input_units(self._map_batches({"X": X, "condition": condition}, self._decoded))

    def _tensors(self, inputs: dict[str, Any], fitting: bool) -> Batch:
        values = condition_values(inputs["condition"])
        if len(values) != len(inputs["X"]):
            raise ValueError(f"condition has {len(values)} values for {len(inputs['X'])} rows")
        if fitting:
            counts = pd.Series(values).value_counts().sort_index()
            self.shape_.update(categories=list(counts.index),
                               category_weights=[float(c) for c in counts / counts.sum()])
        index = {category: position for position, category in enumerate(self.shape_["categories"])}
        unseen = sorted(set(values) - set(index))
        if unseen:
            raise ValueError(f"condition value(s) {unseen} were not seen in fit; known: "
                             f"{self.shape_['categories']}")
        one_hot = np.zeros((len(values), len(index)), dtype=np.float32)
        one_hot[np.arange(len(values)), [index[value] for value in values]] = 1.0
        return {"X": self._standardize("X", as_segments(inputs["X"]), fitting),
                "condition": torch.from_numpy(one_hot)}

    def _build_module(self) -> nn.Module:
        return _CVAENet(self.shape_["X_features"], len(self.shape_["categories"]), self.hidden,
                        self.latent_dim)

    def _posterior(self, module: nn.Module, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        segments = self._rows(batch["X"])
        return module.posterior(segments, _per_row(batch["condition"], len(segments)))

    def _decode(self, module: nn.Module, code: torch.Tensor, batch: Batch) -> torch.Tensor:
        return module.decode(code, _per_row(batch["condition"], len(code)))


def _per_row(condition: torch.Tensor, rows: int) -> torch.Tensor:
    """Each track's one-hot condition repeated for its segments when there is one row per
    segment (``rows`` a multiple of the tracks), as it is when there is one row per track."""
    return condition.repeat_interleave(rows // len(condition), dim=0)
