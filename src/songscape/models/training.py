"""One training loop for every neural representation: Adam, optional KL warm-up weight,
early stopping on a held-out split, gradient clipping, seeding, a per-epoch history."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

# loss_fn(model, batch, kl_weight) -> named loss terms, "loss" being the one to minimise
LossFn = Callable[[nn.Module, torch.Tensor, float], dict[str, torch.Tensor]]


@dataclass(frozen=True)
class TrainingSettings:
    """How to train; every field is also a parameter of the neural representations."""

    epochs: int = 300
    batch_size: int = 64
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    patience: int = 30
    validation_fraction: float = 0.15
    gradient_clip: float = 5.0
    warmup_epochs: int = 0


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch, ask torch for deterministic kernels; return a generator
    for data shuffling."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    return torch.Generator().manual_seed(seed)


def split_indices(n: int, validation_fraction: float, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Seeded train/validation split; no validation rows when there are too few samples."""
    order = torch.randperm(n, generator=generator)
    n_validation = int(round(n * validation_fraction)) if n >= 20 else 0
    return order[n_validation:], order[:n_validation]


def _mean_loss(model: nn.Module, loss_fn: LossFn, data: torch.Tensor, batch_size: int,
               kl_weight: float) -> dict[str, float]:
    totals: dict[str, float] = {}
    with torch.no_grad():
        for start in range(0, len(data), batch_size):
            batch = data[start:start + batch_size]
            for name, value in loss_fn(model, batch, kl_weight).items():
                totals[name] = totals.get(name, 0.0) + float(value) * len(batch)
    return {name: total / len(data) for name, total in totals.items()}


def train(model: nn.Module, loss_fn: LossFn, data: torch.Tensor, settings: TrainingSettings,
          generator: torch.Generator) -> list[dict[str, float]]:
    """Train ``model`` in place and leave it at the epoch with the lowest validation loss
    (training loss when there is no validation split). Returns one history row per epoch.

    The KL weight ramps linearly from 0 to 1 over ``warmup_epochs``; validation loss is always
    measured at the full weight, so epochs stay comparable, and early stopping waits until the
    warm-up has ended.
    """
    train_rows, validation_rows = split_indices(len(data), settings.validation_fraction, generator)
    train_data, validation_data = data[train_rows], data[validation_rows]
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate,
                                  weight_decay=settings.weight_decay)
    best_loss, best_state, epochs_without_gain = float("inf"), copy.deepcopy(model.state_dict()), 0
    history: list[dict[str, float]] = []
    for epoch in range(settings.epochs):
        kl_weight = min(1.0, (epoch + 1) / settings.warmup_epochs) if settings.warmup_epochs else 1.0
        model.train()
        order = torch.randperm(len(train_data), generator=generator)
        for start in range(0, len(order), settings.batch_size):
            batch = train_data[order[start:start + settings.batch_size]]
            optimizer.zero_grad()
            loss_fn(model, batch, kl_weight)["loss"].backward()
            nn.utils.clip_grad_norm_(model.parameters(), settings.gradient_clip)
            optimizer.step()
        model.eval()
        row = {"epoch": float(epoch), "kl_weight": kl_weight}
        row.update({f"train_{k}": v for k, v in _mean_loss(model, loss_fn, train_data,
                                                           settings.batch_size, 1.0).items()})
        monitored = row["train_loss"]
        if len(validation_data):
            row.update({f"val_{k}": v for k, v in _mean_loss(model, loss_fn, validation_data,
                                                             settings.batch_size, 1.0).items()})
            monitored = row["val_loss"]
        history.append(row)
        if epoch + 1 < settings.warmup_epochs:
            continue
        if monitored < best_loss - 1e-6:
            best_loss, best_state, epochs_without_gain = monitored, copy.deepcopy(model.state_dict()), 0
        else:
            epochs_without_gain += 1
            if epochs_without_gain >= settings.patience:
                break
    model.load_state_dict(best_state)
    return history
