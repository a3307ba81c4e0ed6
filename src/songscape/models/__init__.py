"""Representations: every one is an estimator with fit / transform / save / load."""

from songscape.models.ae import Autoencoder
from songscape.models.base import Representation, load_representation
from songscape.models.baselines import PCARepresentation, RawFeatures
from songscape.models.vae import VAE

REPRESENTATIONS: dict[str, type[Representation]] = {
    cls.kind: cls for cls in (RawFeatures, PCARepresentation, Autoencoder, VAE)
}

__all__ = ["REPRESENTATIONS", "Autoencoder", "PCARepresentation", "RawFeatures", "Representation",
           "VAE", "load_representation"]
