"""What the PyTorch representations share: standardized inputs, the training loop, saving
weights as ``weights.pt`` (loaded with ``weights_only=True``) and ``history.csv``."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from songscape.models.base import Representation, Standardizer
from songscape.models.training import TrainingSettings, seed_everything, train
from songscape.workspace import atomic_path, write_csv

WEIGHTS_FILE = "weights.pt"
HISTORY_FILE = "history.csv"


class NeuralRepresentation(Representation):
    """An encoder/decoder trained on standardized features; transform returns the code."""

    def __init__(self, latent_dim: int = 8, hidden: tuple[int, ...] = (128, 64),
                 epochs: int = 300, batch_size: int = 64, learning_rate: float = 1e-3,
                 weight_decay: float = 0.0, patience: int = 30,
                 validation_fraction: float = 0.15, gradient_clip: float = 5.0,
                 random_state: int = 0) -> None:
        self.latent_dim = latent_dim
        self.hidden = tuple(hidden)
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.gradient_clip = gradient_clip
        self.random_state = random_state
        self.scaler_ = Standardizer()
        self.module_: nn.Module | None = None
        self.history_: list[dict[str, float]] = []

    @abstractmethod
    def _build_module(self, n_features: int) -> nn.Module:
        """A fresh network for inputs of ``n_features`` dimensions."""

    @abstractmethod
    def _loss(self, module: nn.Module, batch: torch.Tensor, kl_weight: float) -> dict[str, torch.Tensor]:
        """Named loss terms for one batch; "loss" is minimised."""

    @abstractmethod
    def _encode(self, module: nn.Module, batch: torch.Tensor) -> torch.Tensor:
        """The deterministic code of a batch (the posterior mean for VAEs)."""

    def _training_settings(self) -> TrainingSettings:
        names = {f.name for f in fields(TrainingSettings)}
        return TrainingSettings(**{k: v for k, v in vars(self).items() if k in names})

    def fit(self, X: np.ndarray) -> NeuralRepresentation:
        X = np.asarray(X, dtype=np.float64)
        data = torch.from_numpy(self.scaler_.fit(X).transform(X))
        generator = seed_everything(self.random_state)
        self.module_ = self._build_module(X.shape[1])
        self.history_ = train(self.module_, self._loss, data, self._training_settings(), generator)
        return self

    def _fitted_module(self) -> nn.Module:
        if self.module_ is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit first")
        return self.module_.eval()

    def transform(self, X: np.ndarray) -> np.ndarray:
        module = self._fitted_module()
        data = torch.from_numpy(self.scaler_.transform(np.asarray(X, dtype=np.float64)))
        with torch.no_grad():
            return self._encode(module, data).numpy().astype(np.float32)

    def reconstruct(self, X: np.ndarray) -> np.ndarray:
        """Decoder output for the code of X, in the units of X."""
        module = self._fitted_module()
        data = torch.from_numpy(self.scaler_.transform(np.asarray(X, dtype=np.float64)))
        with torch.no_grad():
            decoded = module.decoder(self._encode(module, data)).numpy()
        return self.scaler_.inverse_transform(decoded)

    def _save_state(self, directory: Path) -> None:
        module = self._fitted_module()
        state = {"module": module.state_dict(),
                 "scaler_mean": torch.from_numpy(self.scaler_.mean),
                 "scaler_scale": torch.from_numpy(self.scaler_.scale)}
        with atomic_path(directory / WEIGHTS_FILE) as tmp:
            torch.save(state, tmp)
        write_csv(pd.DataFrame(self.history_), directory / HISTORY_FILE)

    def _load_state(self, directory: Path) -> None:
        state = torch.load(directory / WEIGHTS_FILE, weights_only=True)
        self.scaler_ = Standardizer(state["scaler_mean"].numpy(), state["scaler_scale"].numpy())
        self.module_ = self._build_module(len(self.scaler_.mean))
        self.module_.load_state_dict(state["module"])
        history_path = directory / HISTORY_FILE
        if history_path.exists() and history_path.stat().st_size > 1:
            self.history_ = pd.read_csv(history_path).to_dict("records")
