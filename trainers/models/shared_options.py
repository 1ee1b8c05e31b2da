"""Option fields that several GAN families share, declared once (see trainers/options.py).

@dataclass
class DCGANConfig:
    latent_dim: int = latent_dim_option()
    spectral_norm: bool = spectral_norm_option()
"""

from __future__ import annotations

from typing import Any

from trainers.options import option


def latent_dim(default: int = 100) -> Any:
    """``latent_dim``: the size of z (a family's config factory may pick another per image size)."""
    return option(
        default,
        "size of z, G's latent noise (default depends on the model and image size)",
        group="model",
        minimum=1,
        maximum=1024,
        step=1,
        ui_label="latent size (z)",
    )


def upsample() -> Any:
    """``upsample``: "convtranspose" or "resize-conv" (choices from the field's Literal type)."""
    return option(
        "convtranspose",
        "G's upsampling: transposed convolutions or resize-conv (no checkerboards)",
        group="model",
    )


def spectral_norm() -> Any:
    """``spectral_norm``: spectral normalisation on D's layers (Miyato et al. 2018)."""
    return option(False, "spectral normalisation in D", group="model")


def minibatch_std() -> Any:
    """``minibatch_std``: D sees the batch's std-dev as one more feature (Karras et al. 2018)."""
    return option(False, "minibatch discrimination (std-dev feature) in D", group="model")
