"""One training loop for every neural representation: AdamW, KL warm-up, early stopping on a
held-out split, gradient clipping, seeding, CUDA when available, a progress bar and a
per-epoch history."""

from __future__ import annotations

import copy
import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from songscape.progress import stage
from songscape.rows import LazyRows
from songscape.threads import choose_device

Batch = dict[str, torch.Tensor]  # named inputs of one batch, all with the same number of rows
# named inputs of a whole data set: tensors, or `LazyRows` prepared batch by batch from
# (memory-mapped) arrays; either gives a tensor when indexed with a tensor of row numbers
Data = dict[str, "torch.Tensor | LazyRows"]


@dataclass(frozen=True)
class Step:
    """Where training stands when a loss is computed: the epoch and the KL warm-up weight."""

    epoch: int
    kl_weight: float = 1.0


# loss_fn(model, batch, step) -> named loss terms, "loss" being the one to minimise
LossFn = Callable[[nn.Module, Batch, Step], dict[str, torch.Tensor]]


@dataclass(frozen=True)
class TrainingSettings:
    """How to train; every field but ``schedule_epochs`` is also a parameter of the neural
    representations."""

    epochs: int = 300
    batch_size: int = 64
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    patience: int = 30
    validation_fraction: float = 0.15
    gradient_clip: float = 5.0
    warmup_epochs: int = 0
    schedule_epochs: int = 0  # the loss changes with the epoch until then: no early stopping
    device: str = "auto"
    label: str = "training"


def resolve_device(name: str) -> torch.device:
    """``auto`` → CUDA when available, else CPU (`songscape.threads.choose_device`)."""
    return torch.device(choose_device(name))


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch, ask torch for deterministic kernels (on CUDA too); return
    a CPU generator for data shuffling."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
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


def iterate_batches(data: Data, batch_size: int, device: torch.device,
                    order: torch.Tensor | None = None) -> Iterator[Batch]:
    """Consecutive batches of the rows in ``order`` (default: all, in turn) moved to
    ``device``; only one batch of rows is read at a time."""
    order = torch.arange(len(next(iter(data.values())))) if order is None else order
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        yield {name: values[rows].to(device) for name, values in data.items()}


def mean_loss(model: nn.Module, loss_fn: LossFn, data: Data, batch_size: int, step: Step,
              device: torch.device, rows: torch.Tensor | None = None) -> dict[str, float]:
    """Every loss term averaged over ``rows`` of ``data`` (default: all), without gradients."""
    totals: dict[str, float] = {}
    n = len(next(iter(data.values()))) if rows is None else len(rows)
    with torch.no_grad():
        for batch in iterate_batches(data, batch_size, device, rows):
            size = len(next(iter(batch.values())))
            for name, value in loss_fn(model, batch, step).items():
                totals[name] = totals.get(name, 0.0) + float(value) * size
    return {name: total / n for name, total in totals.items()}


def train(model: nn.Module, loss_fn: LossFn, data: Data, settings: TrainingSettings,
          generator: torch.Generator) -> list[dict[str, float]]:
    """Train ``model`` in place and leave it, on the CPU, at the epoch with the lowest
    validation loss (training loss when there is no validation split). Returns one history
    row per epoch.

    The KL weight ramps linearly from 0 to 1 over ``warmup_epochs``; validation loss is always
    measured at the full weight, so epochs stay comparable, and early stopping waits until the
    warm-up and any other schedule of the loss (``schedule_epochs``) have ended.
    """
    device = resolve_device(settings.device)
    model.to(device)
    n = len(next(iter(data.values())))
    train_rows, validation_rows = split_indices(n, settings.validation_fraction, generator)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate,
                                  weight_decay=settings.weight_decay)
    settle = max(settings.warmup_epochs, settings.schedule_epochs)
    best_loss, best_state, epochs_without_gain = float("inf"), copy.deepcopy(model.state_dict()), 0
    history: list[dict[str, float]] = []
    with stage(settings.label, settings.epochs, unit="epochs") as advance:
        for epoch in range(settings.epochs):
            kl_weight = min(1.0, (epoch + 1) / settings.warmup_epochs) if settings.warmup_epochs else 1.0
            model.train()
            order = train_rows[torch.randperm(len(train_rows), generator=generator)]
            for batch in iterate_batches(data, settings.batch_size, device, order):
                optimizer.zero_grad()
                loss_fn(model, batch, Step(epoch, kl_weight))["loss"].backward()
                nn.utils.clip_grad_norm_(model.parameters(), settings.gradient_clip)
                optimizer.step()
            model.eval()
            row = {"epoch": float(epoch), "kl_weight": kl_weight}
            full = Step(epoch, 1.0)
            row.update({f"train_{k}": v for k, v in mean_loss(model, loss_fn, data, settings.batch_size,
                                                              full, device, train_rows).items()})
            monitored = row["train_loss"]
            if len(validation_rows):
                row.update({f"val_{k}": v for k, v in mean_loss(model, loss_fn, data, settings.batch_size,
                                                                full, device, validation_rows).items()})
                monitored = row["val_loss"]
            history.append(row)
            advance(1)
            if epoch + 1 < settle:
                continue
            if monitored < best_loss - 1e-6:
                best_loss, best_state, epochs_without_gain = monitored, copy.deepcopy(model.state_dict()), 0
            else:
                epochs_without_gain += 1
                if epochs_without_gain >= settings.patience:
                    break
    model.load_state_dict(best_state)
    model.to("cpu")
    return history
