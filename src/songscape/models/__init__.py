"""Representations: every one is an estimator with fit / transform / save / load."""

from songscape.models.ae import Autoencoder
from songscape.models.base import Representation, load_representation
from songscape.models.baselines import PCARepresentation, RawFeatures
from songscape.models.contrastive import ContrastiveEncoder
from songscape.models.conv_vae import ConvVAE
from songscape.models.cvae import CVAE
from songscape.models.group_vae import GroupVAE
from songscape.models.multimodal import MultimodalVAE
from songscape.models.vade import VaDE
from songscape.models.vae import VAE

REPRESENTATIONS: dict[str, type[Representation]] = {
    cls.kind: cls for cls in (RawFeatures, PCARepresentation, Autoencoder, VAE, CVAE, ConvVAE,
                              MultimodalVAE, VaDE, GroupVAE, ContrastiveEncoder)
}

__all__ = ["CVAE", "REPRESENTATIONS", "VAE", "Autoencoder", "ContrastiveEncoder", "ConvVAE", "GroupVAE", "MultimodalVAE",
           "PCARepresentation", "RawFeatures", "Representation", "VaDE", "load_representation"]
