"""One training loop for every neural representation: AdamW, KL warm-up, early stopping on a
held-out split checked every few epochs, gradient clipping, seeding, CUDA when available (the
data moved there once, no step waiting for it), a progress bar and a per-epoch history."""

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
    track_budget: int | None = None  # training rows seen in all: fewer epochs on a large collection
    batch_size: int = 256
    learning_rate: float = 2e-3
    weight_decay: float = 0.0
    patience: int = 30
    min_improvement: float = 0.0  # a smaller relative fall of the monitored loss is not progress
    validation_fraction: float = 0.15
    validate_every: int = 5
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


def on_device(data: Data, device: torch.device) -> Data:
    """``data`` with its tensors moved to ``device`` once (row-lazy inputs stay where they are
    and are moved batch by batch)."""
    return {name: values.to(device) if isinstance(values, torch.Tensor) else values
            for name, values in data.items()}


def iterate_batches(data: Data, batch_size: int, device: torch.device,
                    order: torch.Tensor | None = None) -> Iterator[Batch]:
    """Consecutive batches of the rows in ``order`` (default: all, in turn) on ``device``;
    tensors already there are indexed in place, other rows are read one batch at a time."""
    n = len(next(iter(data.values())))
    order = torch.arange(n) if order is None else order
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        yield {name: _take(values, rows, device) for name, values in data.items()}


def _take(values: torch.Tensor | LazyRows, rows: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``values[rows]`` on ``device``, without a copy through the host when both are there."""
    if isinstance(values, torch.Tensor) and values.device == device:
        return values.index_select(0, rows.to(device, non_blocking=True))
    return values[rows.cpu()].to(device, non_blocking=True)


def mean_loss(model: nn.Module, loss_fn: LossFn, data: Data, batch_size: int, step: Step,
              device: torch.device, rows: torch.Tensor | None = None) -> dict[str, float]:
    """Every loss term averaged over ``rows`` of ``data`` (default: all), without gradients;
    the terms are summed on ``device`` and read back once."""
    totals = _LossTotals()
    with torch.no_grad():
        for batch in iterate_batches(data, batch_size, device, rows):
            totals.add(loss_fn(model, batch, step), len(next(iter(batch.values()))))
    return totals.means()


class _LossTotals:
    """Loss terms summed over batches (weighted by their rows) where they were computed, so
    that a step never waits for the device; `means` reads them back in one transfer."""

    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.rows = 0

    def add(self, terms: dict[str, torch.Tensor], rows: int) -> None:
        for name, value in terms.items():
            weighted = value.detach() * rows
            self.sums[name] = self.sums[name] + weighted if name in self.sums else weighted
        self.rows += rows

    def means(self) -> dict[str, float]:
        if not self.sums:
            return {}
        values = torch.stack([value.float() for value in self.sums.values()]).cpu().tolist()
        return {name: value / self.rows for name, value in zip(self.sums, values)}


def epoch_limit(epochs: int, track_budget: int | None, training_rows: int) -> int:
    """The epochs a fit may run: ``epochs``, or fewer when ``track_budget`` rows (tracks) seen
    in all are reached sooner, so that a large collection costs what a collection of
    ``track_budget / epochs`` tracks costs (at least one epoch)."""
    if track_budget is None or training_rows == 0:
        return epochs
    return max(1, min(epochs, -(-track_budget // training_rows)))


def is_progress(loss: float, reference: float, min_improvement: float) -> bool:
    """Whether ``loss`` is below ``reference`` by more than ``min_improvement`` of the
    reference's size (and by 1e-6 at least); any finite loss is progress from no reference."""
    if reference == float("inf"):
        return loss < reference
    return loss < reference - max(1e-6, min_improvement * abs(reference))


def _optimizer(model: nn.Module, settings: TrainingSettings) -> torch.optim.Optimizer:
    """AdamW's fused kernel (one pass over every parameter, on the CPU as on CUDA): the
    per-tensor update took a third of a small model's step."""
    return torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay,
                             fused=True)


def train(model: nn.Module, loss_fn: LossFn, data: Data, settings: TrainingSettings,
          generator: torch.Generator) -> list[dict[str, float]]:
    """Train ``model`` in place and leave it, on the CPU, at the validated epoch with the lowest
    validation loss (training loss when there is no validation split). Returns one history
    row per epoch.

    The data go to the device once; each step's loss terms are summed there and read once per
    epoch, so no step waits for the device. ``train_*`` in the history is the mean over the
    epoch's batches of what was minimised (at that epoch's KL weight). Validation runs every
    ``validate_every`` epochs and after the last, at the full KL weight, so validated epochs
    stay comparable; early stopping waits until the warm-up and any other schedule of the loss
    (``schedule_epochs``) have ended, and stops once ``patience`` epochs have passed without
    progress: a validation loss lower than the last progress by more than ``min_improvement``
    of its size. The weights kept are those of the lowest loss, progress or not.
    """
    device = resolve_device(settings.device)
    model.to(device)
    data = on_device(data, device)
    n = len(next(iter(data.values())))
    train_rows, validation_rows = split_indices(n, settings.validation_fraction, generator)
    epochs = epoch_limit(settings.epochs, settings.track_budget, len(train_rows))
    optimizer = _optimizer(model, settings)
    settle = max(settings.warmup_epochs, settings.schedule_epochs)
    best_loss, best_state = float("inf"), copy.deepcopy(model.state_dict())
    progress_loss, progress_epoch = float("inf"), 0
    history: list[dict[str, float]] = []
    with stage(settings.label, epochs, unit="epochs") as advance:
        for epoch in range(epochs):
            kl_weight = min(1.0, (epoch + 1) / settings.warmup_epochs) if settings.warmup_epochs else 1.0
            model.train()
            order = train_rows[torch.randperm(len(train_rows), generator=generator)]
            totals = _LossTotals()
            for batch in iterate_batches(data, settings.batch_size, device, order):
                optimizer.zero_grad(set_to_none=True)
                terms = loss_fn(model, batch, Step(epoch, kl_weight))
                terms["loss"].backward()
                nn.utils.clip_grad_norm_(model.parameters(), settings.gradient_clip)
                optimizer.step()
                totals.add(terms, len(next(iter(batch.values()))))
            row = {"epoch": float(epoch), "kl_weight": kl_weight,
                   **{f"train_{k}": v for k, v in totals.means().items()}}
            history.append(row)
            advance(1)
            last = epoch + 1 == epochs
            if epoch + 1 < settle or not ((epoch + 1) % settings.validate_every == 0 or last):
                continue
            monitored = row["train_loss"]
            if len(validation_rows):
                model.eval()
                row.update({f"val_{k}": v for k, v in mean_loss(model, loss_fn, data, settings.batch_size,
                                                                Step(epoch, 1.0), device, validation_rows).items()})
                monitored = row["val_loss"]
            if monitored < best_loss - 1e-6:
                best_loss, best_state = monitored, copy.deepcopy(model.state_dict())
            if is_progress(monitored, progress_loss, settings.min_improvement):
                progress_loss, progress_epoch = monitored, epoch
            elif epoch - progress_epoch >= settings.patience:
                break
    model.load_state_dict(best_state)
    model.to("cpu")
    return history
