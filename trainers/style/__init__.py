"""Neural style transfer (Gatys, Ecker & Bethge, 2016): paint a photo in the style of another image.

The idea
--------
A convolutional network turns an image into *feature maps*. Two summaries of those maps matter:

* **content** – the feature map ``F`` itself at one deeper layer (where, roughly, "what is where"
  lives): two images with similar ``F`` show the same objects in the same places.
* **style** – the Gram matrix ``G = F Fᵀ / (H·W)`` at several layers: how often channel ``i`` and
  channel ``j`` fire *together*, averaged over all positions. Positions are summed away, so ``G``
  keeps colours, textures and brush strokes but forgets the layout.

We do not train a network. We optimise the *pixels* of an image ``x`` (starting from the content
photo or from noise) to minimise::

    L(x) = content_weight · L_content + style_weight · L_style + tv_weight · L_tv

    L_content = ‖F_l(x) − F_l(c)‖² / ‖F_l(c)‖²                        (one layer l, content c)
    L_style   = Σ_l w_l · ‖G_l(x) − G_l(s)‖² / ‖G_l(s)‖²               (style layers, style s)
    L_tv      = mean((x[i+1, j] − x[i, j])²) + mean((x[i, j+1] − x[i, j])²)   (smoothness)

Gatys et al. write the same squared errors with constants ``1/2`` and ``1/(4 N² M²)``; we divide by
the squared size of the target instead, so every term is a *relative* error (≈ 1 means "as far away
as the target is from zero"). That makes the weights mean the same thing for every layer and every
feature network below, which is what the explorer's sliders need.

Speed (and how we compare with the PyTorch tutorial)
----------------------------------------------------
The tutorial builds an ``nn.Sequential`` with loss modules inserted after the chosen layers.
Here a :class:`FeatureExtractor` returns all wanted activations from **one** forward pass that
stops at the deepest wanted layer; content targets and style Gram matrices are computed **once**
before the loop; activations use the ``channels_last`` memory layout; and on CPUs with bfloat16
support (``precision="auto"``) the convolutions and the Gram products run in bfloat16 under
``torch.autocast`` while the losses are summed in float32. That last part is where the speed-up
comes from: measured with ``benchmarks/style_speed.py --threads 1`` at 256 px on a busy 2-core
EPYC, 1.55 vs 0.84 steps/s (1.8×) against the tutorial's structure; in float32 our structure
alone is as fast as the tutorial's (0.97×), because the convolutions dominate both. bfloat16
costs little accuracy: activations within 0.7 %, Gram matrices within 0.2 %, and after 40 steps
at 128 px the total loss (re-evaluated in float32) was 0.393 against 0.384 for a float32 run
that took 2.6× longer.

The package
-----------
``config`` (StyleConfig, and ``schedule``: single-scale or coarse-to-fine 64 -> 128 -> 256 px,
the classroom-speed path), ``losses``, ``features`` (the networks and the VGG19 weights),
``pictures`` (arrays <-> tensors), ``transfer`` (the optimisation), ``compare`` (the fallback
experiment below). The command line is trainers/cli/style.py (``gan-train style``).

Which features? (the offline fallback)
--------------------------------------
``features="vgg19"`` is VGG19 with ImageNet weights, as in the paper. They are read from the torch
hub cache (``$TORCH_HOME/hub/checkpoints/vgg19-dcbb9e9d.pth``, the file torchvision itself
downloads) with ``torch.load(weights_only=True)``, or downloaded there when the machine is online.

Without those weights and without internet there must still be a real result. Two weight-free
networks from the literature were tried side by side with the same losses and default weights
(192 px, 120 L-BFGS steps) on three skimage pairs: astronaut × gravel, coffee × hubble_deep_field
and chelsea × brick:

* ``"random-multiscale"`` – Ustyuzhaninov et al. 2016 ("Texture synthesis using shallow
  convolutional networks with random filters"): one layer of random filters at several scales.
  We get the scales cheaply from an image pyramid (7×7 random filters on the image at 1, 1/2,
  1/4, 1/8 and 1/16 resolution), ReLU, a Gram matrix per scale; content on the 1/4 level.
* ``"random-vgg19"`` – He, Wang & Hopcroft 2016 ("A powerful generative model using random weights
  for the deep image representation"): the VGG19 architecture with fixed random (He-normal) weights.

Both are built from a fixed seed, so a given input always gives the same result.
**``"random"`` means ``"random-vgg19"``** – our choice, after looking at the grid
(``compare_features()`` writes it to ``/tmp/style_compare.png``). Random VGG19 kept the content
recognisable in all three pairs while clearly taking on the style (the cat with brick joints
drawn through it, the cup with a ring of star-like speckles), and it uses the same layer names
(``relu4_2`` …) as the real VGG19, so nothing else changes when the weights appear. The shallow
multi-scale net was as good on gravel, but on the other two it either kept a blurry, darkened
copy of the photo with no stars at all, or let the bricks wipe out the cat. Random VGG19's
weakness is colourful pixel-level speckle (its first-layer Gram matrices like high frequencies);
a larger ``tv_weight`` calms it. ``features="auto"`` uses real VGG19 when it can and this
fallback otherwise; :func:`describe_features` says which one a run will use.
"""

from trainers.style.compare import compare_features
from trainers.style.config import (
    COARSE_MIN_SIDE,
    FEATURE_CHOICES,
    IMAGENET_MEAN,
    IMAGENET_STD,
    MAX_SIZE,
    MIN_SIZE,
    RANDOM_FALLBACK,
    SCHEDULES,
    VGG19_CFG,
    VGG19_FILENAME,
    VGG19_HASH_PREFIX,
    VGG19_URL,
    StyleConfig,
)
from trainers.style.features import (
    VGG_CONTENT_LAYER,
    VGG_STYLE_LAYERS,
    FeatureExtractor,
    FeatureNet,
    MultiScaleRandomFeatures,
    describe_features,
    find_vgg19_weights,
    load_feature_net,
    load_vgg19_state_dict,
    random_vgg19,
    vgg19_cache_path,
    vgg19_from_state_dict,
)
from trainers.style.losses import content_loss, gram_matrix, style_loss, total_variation_loss
from trainers.style.pictures import (
    ImageInput,
    load_image,
    preserve_colors,
    resize_long_side,
    to_tensor,
    to_uint8,
)
from trainers.style.transfer import (
    StyleObjective,
    StyleResult,
    stage_plan,
    stylise,
    stylise_result,
    use_bf16,
)

__all__ = [
    "COARSE_MIN_SIDE",
    "FEATURE_CHOICES",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "MAX_SIZE",
    "MIN_SIZE",
    "RANDOM_FALLBACK",
    "SCHEDULES",
    "VGG19_CFG",
    "VGG19_FILENAME",
    "VGG19_HASH_PREFIX",
    "VGG19_URL",
    "VGG_CONTENT_LAYER",
    "VGG_STYLE_LAYERS",
    "FeatureExtractor",
    "FeatureNet",
    "ImageInput",
    "MultiScaleRandomFeatures",
    "StyleConfig",
    "StyleObjective",
    "StyleResult",
    "compare_features",
    "content_loss",
    "describe_features",
    "find_vgg19_weights",
    "gram_matrix",
    "load_feature_net",
    "load_image",
    "load_vgg19_state_dict",
    "preserve_colors",
    "random_vgg19",
    "resize_long_side",
    "stage_plan",
    "style_loss",
    "stylise",
    "stylise_result",
    "to_tensor",
    "to_uint8",
    "total_variation_loss",
    "use_bf16",
    "vgg19_cache_path",
    "vgg19_from_state_dict",
]
