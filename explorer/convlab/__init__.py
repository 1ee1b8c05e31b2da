"""The transposed-convolution lab: pure functions behind the "Transposed convolution" tab.

A transposed convolution (``torch.nn.ConvTranspose2d``, sometimes wrongly called
"deconvolution") is how most DCGAN-style generators grow a 4x4 feature map into a 64x64
image. This module opens it up in two equivalent ways:

1. **Zero insertion + ordinary convolution** (:func:`transposed_conv_trace`).
   For stride ``s``, padding ``p``, output padding ``op`` and kernel size ``k``:

   * put ``s - 1`` zeros between neighbouring input pixels,
   * pad that grid with ``k - p - 1`` zeros on every side (plus ``op`` extra rows/columns
     at the bottom/right),
   * slide the kernel, flipped by 180°, over it with stride 1 (an ordinary convolution).

2. **Scatter** (:func:`scatter_view`). Every input pixel stamps a copy of the kernel,
   scaled by the pixel's value, onto the output canvas at ``(i·s, j·s)``; overlapping stamps
   add up; finally ``p`` rows/columns are cropped from every side.

Both give exactly what ``torch.nn.functional.conv_transpose2d`` gives (tested in
``tests/test_convlab.py``), and both give the output size

    H_out = (H_in − 1)·s − 2·p + d·(k − 1) + op + 1            (d = dilation, usually 1)

The second half of the module is the **checkerboard** demo: when ``k`` is not divisible by
``s`` the stamps of the scatter view overlap unevenly, so some output pixels receive more
kernel taps than their neighbours, and a periodic pattern appears
(Odena, Dumoulin & Olah, "Deconvolution and Checkerboard Artifacts", Distill 2016).
Nearest-neighbour upsampling followed by an ordinary convolution ("resize-conv") does not
have this problem.

The code lives in four modules, re-exported here (``from explorer import convlab`` gives all):
:mod:`~explorer.convlab.sizes` (parameters, output size, examples),
:mod:`~explorer.convlab.trace` (the two computations), :mod:`~explorer.convlab.render` (HTML
and :func:`lab_view`) and :mod:`~explorer.convlab.checkerboard`. Nothing here imports a front
end: the tab in ``explorer/gradio_ui/tabs/convlab.py`` only wires these functions to widgets.
"""

from __future__ import annotations

from explorer.convlab.checkerboard import (
    ArtifactView,
    CheckerboardDemo,
    artifact_view,
    checkerboard_demo,
    model_checkerboard_demo,
    tiny_generators,
    to_uint8_image,
)
from explorer.convlab.render import (
    LabView,
    grid_html,
    lab_view,
    legend_html,
    move_step,
    scatter_step_html,
    step_equation,
    trace_step_html,
    with_style,
)
from explorer.convlab.sizes import (
    INPUT_KINDS,
    KERNEL_KINDS,
    OUTPUT_SIZE_SYMBOLS,
    check_params,
    example_input,
    example_kernel,
    output_size,
    output_size_formula,
    size_walkthrough,
)
from explorer.convlab.trace import (
    NO_ROLE,
    CellRole,
    ConvTransposeTrace,
    ScatterStamp,
    ScatterView,
    WindowStep,
    flip_kernel,
    insert_zeros,
    max_abs_diff_vs_torch,
    scatter_view,
    torch_reference,
    transposed_conv_trace,
)

__all__ = [
    "CellRole",
    "NO_ROLE",
    "WindowStep",
    "ConvTransposeTrace",
    "ScatterStamp",
    "ScatterView",
    "LabView",
    "CheckerboardDemo",
    "ArtifactView",
    "OUTPUT_SIZE_SYMBOLS",
    "INPUT_KINDS",
    "KERNEL_KINDS",
    "check_params",
    "output_size",
    "output_size_formula",
    "size_walkthrough",
    "example_input",
    "example_kernel",
    "insert_zeros",
    "flip_kernel",
    "transposed_conv_trace",
    "torch_reference",
    "max_abs_diff_vs_torch",
    "scatter_view",
    "grid_html",
    "legend_html",
    "with_style",
    "trace_step_html",
    "step_equation",
    "scatter_step_html",
    "lab_view",
    "move_step",
    "checkerboard_demo",
    "artifact_view",
    "tiny_generators",
    "model_checkerboard_demo",
    "to_uint8_image",
]
