"""The checks every representation passes (as pythae tests each model with the same test
classes): build, forward shapes, one training step lowers the loss, save/load round trip,
same seed same output. A model's test module subclasses a contract and says how to build the
model and what named inputs to feed it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from songscape.models import Representation, load_representation
from songscape.models.neural import NeuralRepresentation
from songscape.models.training import Step, iterate_batches, seed_everything

N_ROWS, N_FEATURES = 60, 10


def low_rank_features(seed: int = 0, n: int = N_ROWS, d: int = N_FEATURES) -> np.ndarray:
    """Rows near a 3-D subspace, shifted and scaled away from standard units."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n, 3))
    return latent @ rng.standard_normal((3, d)) * 3 + 5 + 0.1 * rng.standard_normal((n, d))


class RepresentationContract:
    """Checks for any representation; subclasses define `build` and may override `inputs`."""

    embedding_dim = 3

    def build(self, random_state: int = 0) -> Representation:
        raise NotImplementedError

    def inputs(self) -> dict[str, Any]:
        return {"X": low_rank_features()}

    def test_build_keeps_its_parameters(self) -> None:
        model = self.build(random_state=7)
        params = model.get_params()
        assert params["random_state"] == 7
        assert type(model)(**params).get_params() == params

    def test_forward_shapes(self) -> None:
        inputs = self.inputs()
        embedding = self.build().fit(**inputs).transform(**inputs)
        assert embedding.shape == (N_ROWS, self.embedding_dim) and embedding.dtype == np.float32
        assert np.all(np.isfinite(embedding))

    def test_save_load_round_trip(self, tmp_path: Path) -> None:
        inputs = self.inputs()
        model = self.build().fit(**inputs)
        model.save(tmp_path / "model", metadata={"fit_seconds": 1.0})
        loaded = load_representation(tmp_path / "model")
        assert type(loaded) is type(model) and loaded.get_params() == model.get_params()
        assert np.array_equal(loaded.transform(**inputs), model.transform(**inputs))

    def test_same_seed_same_output(self) -> None:
        inputs = self.inputs()
        first = self.build(random_state=1).fit(**inputs).transform(**inputs)
        second = self.build(random_state=1).fit(**inputs).transform(**inputs)
        assert np.array_equal(first, second)


class NeuralContract(RepresentationContract):
    """Checks for the PyTorch representations on top of the general ones."""

    def test_transform_before_fit_fails_clearly(self) -> None:
        with pytest.raises(RuntimeError, match="not fitted"):
            self.build().transform(**self.inputs())

    def test_one_training_step_lowers_the_loss(self) -> None:
        model = self.build()
        assert isinstance(model, NeuralRepresentation)
        data = model._tensors(self.inputs(), fitting=True)
        batch = next(iterate_batches(data, len(next(iter(data.values()))), torch.device("cpu")))
        seed_everything(0)
        module = model._build_module()
        optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)

        def loss() -> torch.Tensor:
            torch.manual_seed(0)  # the same posterior samples before and after the step
            return model._loss(module, batch, Step(epoch=0, kl_weight=1.0))["loss"]

        before = loss()
        optimizer.zero_grad()
        before.backward()
        optimizer.step()
        with torch.no_grad():
            assert float(loss()) < float(before)

    def test_different_seeds_differ(self) -> None:
        inputs = self.inputs()
        first = self.build(random_state=0).fit(**inputs).transform(**inputs)
        second = self.build(random_state=1).fit(**inputs).transform(**inputs)
        assert not np.array_equal(first, second)
