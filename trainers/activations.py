"""Looking inside G: every layer's output for one latent, via forward hooks.

Plain functions over a :class:`trainers.pipeline.GANPipeline`. Hooks are added only while
``pipe.lock`` is held (every forward pass of the pipeline takes that lock too), and removed in
a ``finally``, so a shared model never keeps a hook and never shows one user another's tensors.
Turning the tensors into pictures is the front end's job (``explorer.latents``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    from trainers.pipeline import GANPipeline

ACTIVATIONS = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.PReLU)


class _StopForward(Exception):
    """Raised by a hook to end a forward pass once the layer we need has run."""


def first_nonlinearity(generator: nn.Module) -> tuple[str, nn.Module]:
    """(name, module) of G's first activation (ReLU, LeakyReLU, ...), or else its first Linear."""
    modules = list(generator.named_modules())
    for name, module in modules:
        if isinstance(module, ACTIVATIONS):
            return name, module
    for name, module in modules:
        if isinstance(module, nn.Linear):
            return name, module
    raise ValueError("the generator has neither an activation nor a Linear layer to analyse")


def layer_activations(
    pipe: GANPipeline, module: nn.Module, z: Tensor, labels: Tensor | None = None
) -> Tensor:
    """The output of ``module`` (a part of ``pipe.generator``) for latents z (B, d), flattened
    to (B, features). G's forward pass stops right after that module."""
    captured: list[Tensor] = []

    def hook(_module: nn.Module, _inputs: tuple, output: Tensor) -> None:
        captured.append(output.detach().flatten(1).float().cpu().clone())
        raise _StopForward

    with pipe.lock, torch.inference_mode():
        handle = module.register_forward_hook(hook)
        try:
            device = pipe.device
            pipe.generator(z.to(device), labels.to(device) if labels is not None else None)
        except _StopForward:
            pass
        finally:
            handle.remove()
    return captured[0]


def describe_module(module: nn.Module) -> str:
    """A short description of a layer, e.g. "ConvTranspose2d(128→64, k=4, s=2, p=1)"."""
    if isinstance(module, nn.ConvTranspose2d | nn.Conv2d):
        k, s, p = module.kernel_size[0], module.stride[0], module.padding[0]
        output_padding = getattr(module, "output_padding", (0,))[0]
        extra = f", op={output_padding}" if output_padding else ""
        name = type(module).__name__
        return f"{name}({module.in_channels}→{module.out_channels}, k={k}, s={s}, p={p}{extra})"
    if isinstance(module, nn.Linear):
        return f"Linear({module.in_features}→{module.out_features})"
    if isinstance(module, nn.Embedding):
        return f"Embedding({module.num_embeddings} classes→{module.embedding_dim})"
    if isinstance(module, nn.Upsample):
        return f"Upsample(×{module.scale_factor}, {module.mode})"
    if isinstance(module, nn.LeakyReLU):
        return f"LeakyReLU({module.negative_slope})"
    return type(module).__name__


@dataclass(frozen=True)
class LayerOutput:
    """One leaf module's output for one latent.

    Attributes:
        name: the module's name in G, e.g. "blocks.0".
        kind: :func:`describe_module` of it.
        value: its output for the sample, without the batch dimension, e.g. (64, 14, 14).
        params: number of weights in this module (not counting children).
    """

    name: str
    kind: str
    value: Tensor
    params: int

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.value.shape)


@dataclass(frozen=True)
class ForwardTrace:
    """Everything G computed for one latent, in forward order.

    Attributes:
        z: the latent (d,). label: its class (cGAN) or None.
        layers: one entry per leaf module call, in the order the forward pass made them.
        image: G's output (C, H, W) in [-1, 1].
        feature_side: the side of the first 4-D feature map G builds (0 for an MLP); a flat
            layer output of k·side·side numbers is what the model later reshapes to (k, side, side).
    """

    z: Tensor
    label: int | None
    layers: list[LayerOutput]
    image: Tensor
    feature_side: int


def trace_forward(pipe: GANPipeline, z: Tensor, label: int | None = None) -> ForwardTrace:
    """Every leaf layer's output for one latent z (d,), from z to the image (forward hooks).

    A cGAN without ``label`` is asked for class 0; an unconditional model ignores ``label``.
    """
    z = z.reshape(1, -1).float()  # (1, d)
    if pipe.conditional:
        label = 0 if label is None else int(label)
        labels = pipe.class_labels(1, label)
    else:
        label, labels = None, None
    records: list[LayerOutput] = []
    first_map: list[tuple[int, ...]] = []  # shape of the first 4-D tensor entering a layer

    def make_hook(name: str):
        def hook(module: nn.Module, inputs: tuple, output: Tensor) -> None:
            if not first_map and inputs and torch.is_tensor(inputs[0]) and inputs[0].dim() == 4:
                first_map.append(tuple(inputs[0].shape[1:]))
            params = sum(p.numel() for p in module.parameters(recurse=False))
            value = output.detach()[0].float().cpu().clone()  # clone: an in-place ReLU follows
            records.append(LayerOutput(name, describe_module(module), value, params))

        return hook

    generator = pipe.generator
    leaves = [(n, m) for n, m in generator.named_modules() if n and not list(m.children())]
    with pipe.lock, torch.inference_mode():
        handles = [m.register_forward_hook(make_hook(n)) for n, m in leaves]
        try:
            device = pipe.device
            image = generator(z.to(device), labels.to(device) if labels is not None else None)
        finally:
            for handle in handles:
                handle.remove()
    side = first_map[0][1] if first_map else 0
    return ForwardTrace(z[0], label, records, image[0].float().cpu(), side)


def upsampling_period(pipe: GANPipeline) -> tuple[int, str] | None:
    """(total upsampling factor of G, upsample mode) for convolutional generators, else None.

    A periodic artefact from the upsampling layers repeats every ``factor`` pixels.
    """
    factor, modes = 1, set()
    for module in pipe.generator.modules():
        if isinstance(module, nn.ConvTranspose2d):
            factor *= int(module.stride[0])
            modes.add("convtranspose")
        elif isinstance(module, nn.Upsample):
            factor *= int(module.scale_factor)
            modes.add("resize-conv")
    if factor == 1:
        return None
    return factor, "+".join(sorted(modes))


def first_image(pipe: GANPipeline, seed: int, class_index: int | None = None) -> Tensor:
    """G's raw output (1, C, H, W) in [-1, 1] for sample 0 of a seed (cGAN: class 0 by default)."""
    z = pipe.latents(seed, 1)
    labels = (
        pipe.class_labels(1, class_index if class_index is not None else 0)
        if pipe.conditional
        else None
    )
    with pipe.lock, torch.inference_mode():
        device = pipe.device
        out = pipe.generator(z.to(device), labels.to(device) if labels is not None else None)
    return out.float().cpu().clone()
