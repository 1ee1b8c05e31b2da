"""The image pool: a buffer of past fakes for CycleGAN's discriminators."""

from __future__ import annotations

import torch


class ImagePool:
    """A buffer of past fakes for the discriminator (Shrivastava et al. 2017; CycleGAN uses 50).

    D is shown a mix of this step's fakes and older ones, so it does not just chase the generator's
    latest output, which damps oscillation. For each new fake:
        - while the pool holds fewer than ``size`` images: store it and return it;
        - else, with probability ½: return a random stored fake and put the new one in its place;
        - else: return the new fake (the pool is unchanged).
    ``size`` 0 turns the pool off (always returns the new fakes).
    """

    def __init__(self, size: int = 50) -> None:
        self.size = size
        self.images: list[torch.Tensor] = []  # each (C, H, W), detached

    def __len__(self) -> int:
        return len(self.images)

    def query(self, fakes: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        """(B, C, H, W) new fakes -> (B, C, H, W) fakes to show D (a mix of new and old)."""
        if self.size == 0:
            return fakes
        out = []
        for image in fakes.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif bool(torch.rand((), generator=rng) < 0.5):
                index = int(torch.randint(0, self.size, (1,), generator=rng))
                out.append(self.images[index].clone())
                self.images[index] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)

    def state(self) -> torch.Tensor:
        """All stored fakes as one float32 tensor (N, C, H, W), for the checkpoint."""
        if not self.images:
            return torch.zeros(0)
        return torch.stack(self.images).float()

    def load_state(self, stored: torch.Tensor | None) -> None:
        """Restore the fakes saved by :meth:`state` (None or empty: an empty pool)."""
        self.images = [] if stored is None or stored.numel() == 0 else [t.clone() for t in stored]
