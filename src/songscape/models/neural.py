"""What the PyTorch representations share: standardized named inputs, the training loop,
batched encoding, saving weights as ``weights.pt`` (loaded with ``weights_only=True``) and
``history.csv``."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from songscape.models.base import Representation, Standardizer, as_matrix, as_segments, check_scaling
from songscape.models.nets import segment_rows
from songscape.models.training import (
    Batch,
    LossFn,
    Step,
    TrainingSettings,
    iterate_batches,
    seed_everything,
    train,
)
from songscape.workspace import atomic_path, write_csv

WEIGHTS_FILE = "weights.pt"
HISTORY_FILE = "history.csv"
ENCODE_BATCH = 1024  # rows per forward pass in transform / reconstruct


class NeuralRepresentation(Representation):
    """An encoder/decoder trained on standardized features; transform returns the code.

    Subclasses say how named inputs become tensors (`_tensors`, which also fits the scalers
    and records in ``shape_`` whatever `_build_module` needs), build the network, give the
    loss of a batch and its deterministic code. Single-input models take ``X``; the
    multimodal and conditional models add named inputs (docs/architecture.md, "Conventions").

    Models that ``take_segments`` read audio as (tracks, segments, features) as well as
    (tracks, features), which is one segment per track: they learn from every segment and
    give one code per track from all of its segments (docs/models.md, "Segments").
    """

    takes_segments = True

    def __init__(self, latent_dim: int = 8, hidden: tuple[int, ...] = (128, 64),
                 epochs: int = 300, track_budget: int | None = 120_000, batch_size: int = 256,
                 learning_rate: float = 2e-3, weight_decay: float = 0.0, patience: int = 30,
                 min_improvement: float = 0.005,
                 validation_fraction: float = 0.15, validate_every: int = 5, gradient_clip: float = 5.0,
                 scaling: str = "dimension", device: str = "auto", random_state: int = 0) -> None:
        self.latent_dim = latent_dim
        self.hidden = tuple(hidden)
        self.epochs = epochs
        self.track_budget = track_budget
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.patience = patience
        self.min_improvement = min_improvement
        self.validation_fraction = validation_fraction
        self.validate_every = validate_every
        self.gradient_clip = gradient_clip
        self.scaling = check_scaling(scaling)
        self.device = device
        self.random_state = random_state
        self.scalers_: dict[str, Standardizer] = {}
        self.shape_: dict[str, Any] = {}
        self.module_: nn.Module | None = None
        self.history_: list[dict[str, float]] = []

    # ---- what each model defines -------------------------------------------------------
    @abstractmethod
    def _build_module(self) -> nn.Module:
        """A fresh network for the inputs described by ``shape_``."""

    @abstractmethod
    def _loss(self, module: nn.Module, batch: Batch, step: Step) -> dict[str, torch.Tensor]:
        """Named loss terms for one batch; "loss" is minimised."""

    @abstractmethod
    def _encode(self, module: nn.Module, batch: Batch) -> torch.Tensor:
        """The deterministic code of a batch (the posterior mean for VAEs)."""

    def _tensors(self, inputs: dict[str, Any], fitting: bool) -> Batch:
        """Standardized float32 tensors from the named inputs; fits the scalers and fills
        ``shape_`` when ``fitting``. The default handles one feature array ``X``: (tracks,
        segments, features) for models that take segments, else rows of features."""
        values = as_segments(inputs["X"]) if self.takes_segments else as_matrix(inputs["X"])
        return {"X": self._standardize("X", values, fitting)}

    def _rows(self, values: torch.Tensor) -> torch.Tensor:
        """A batch's training rows: one per segment for models that take segments (`segment_rows`),
        else the batch as it is (log-mel patches)."""
        return segment_rows(values) if self.takes_segments else values

    def _decoded(self, module: nn.Module, batch: Batch) -> torch.Tensor:
        """Decoder output for the code of a batch (standardized units)."""
        return module.decoder(self._encode(module, batch))

    def _input_units(self, decoded: np.ndarray) -> np.ndarray:
        """Decoder output back in the units of the input."""
        return self.scalers_["X"].inverse_transform(decoded)

    # ---- shared machinery ----------------------------------------------------------------
    def _standardize(self, name: str, values: np.ndarray, fitting: bool,
                     rows: np.ndarray | None = None, scaling: str | None = None) -> torch.Tensor:
        """Scale ``values``, rows or (tracks, segments, features), with the scaler called
        ``name`` (fitted on the segments of ``rows`` when fitting; per dimension or as one block,
        by ``scaling``, default the model's)."""
        if fitting:
            by_dimension = (scaling or self.scaling) == "dimension"
            fitted = values if rows is None else values[rows]
            self.scalers_[name] = Standardizer().fit(fitted.reshape(-1, values.shape[-1]), by_dimension)
            self.shape_[f"{name}_features"] = values.shape[-1]
        return torch.from_numpy(self.scalers_[name].transform(values))

    def training_settings(self, **changes: Any) -> TrainingSettings:
        """The training loop's settings from this model's parameters."""
        names = {f.name for f in fields(TrainingSettings)}
        values = {k: v for k, v in vars(self).items() if k in names}
        return TrainingSettings(**{**values, "label": f"{self.kind} seed {self.random_state}", **changes})

    def _fit(self, inputs: dict[str, Any]) -> NeuralRepresentation:
        """Prepare ``inputs``, build the network and train it with `_loss`."""
        self.shape_ = {}
        data = self._tensors(inputs, fitting=True)
        generator = seed_everything(self.random_state)
        self.module_ = self._build_module()
        self.history_ = self._train(self.module_, self._loss, data, generator)
        return self

    def _train(self, module: nn.Module, loss: LossFn, data: Batch, generator: torch.Generator,
               **changes: Any) -> list[dict[str, float]]:
        return train(module, loss, data, self.training_settings(**changes), generator)

    def fit(self, X: np.ndarray) -> NeuralRepresentation:
        """Learn from X of shape (n_samples, n_features), or (tracks, segments, features)."""
        return self._fit({"X": X})

    def _fitted_module(self) -> nn.Module:
        if self.module_ is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit first")
        return self.module_.eval()

    def _map_batches(self, inputs: dict[str, Any], function: Any) -> np.ndarray:
        """``function(module, batch)`` over batches of the prepared inputs, concatenated."""
        module = self._fitted_module()
        data = self._tensors(inputs, fitting=False)
        with torch.no_grad():
            parts = [function(module, batch).numpy()
                     for batch in iterate_batches(data, ENCODE_BATCH, torch.device("cpu"))]
        return np.concatenate(parts).astype(np.float32)

    def _transform(self, inputs: dict[str, Any]) -> np.ndarray:
        return self._map_batches(inputs, self._encode)

    def transform(self, X: np.ndarray) -> np.ndarray:
        """The code of X: shape (n_samples, latent_dim); one code per track from all of its
        segments when X has them."""
        return self._transform({"X": X})

    def reconstruct(self, X: np.ndarray) -> np.ndarray:
        """Decoder output for the code of X, in the units and shape of one row of X (of one
        segment when X has segments)."""
        decoded = self._map_batches({"X": X}, self._decoded)
        return self._input_units(decoded)

    def _save_state(self, directory: Path) -> None:
        module = self._fitted_module()
        scalers = {name: {"mean": torch.from_numpy(np.asarray(scaler.mean)),
                          "scale": torch.from_numpy(np.asarray(scaler.scale))}
                   for name, scaler in self.scalers_.items()}
        state = {"module": module.state_dict(), "scalers": scalers, "shape": self.shape_}
        with atomic_path(directory / WEIGHTS_FILE) as tmp:
            torch.save(state, tmp)
        write_csv(pd.DataFrame(self.history_), directory / HISTORY_FILE)

    def _load_state(self, directory: Path) -> None:
        state = torch.load(directory / WEIGHTS_FILE, weights_only=True, map_location="cpu")
        self.scalers_ = {name: Standardizer(values["mean"].numpy(), values["scale"].numpy())
                         for name, values in state["scalers"].items()}
        self.shape_ = dict(state["shape"])
        self.module_ = self._build_module()
        self.module_.load_state_dict(state["module"])
        history_path = directory / HISTORY_FILE
        if history_path.exists() and history_path.stat().st_size > 1:
            self.history_ = pd.read_csv(history_path).to_dict("records")
