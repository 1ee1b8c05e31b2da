"""A page's values checked against their declarations (:mod:`explorer.params`).

A browser's widgets keep values inside the declared bounds, but a handler is also reachable
through the API with anything; a page's view function checks each value against the same
:class:`~trainers.options.OptionSpec` its widget was built from, so the bounds are written once::

    width = checked(specs["width"], value)    # int in [minimum, maximum], else InputError
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from explorer import inputs
from trainers.options import OptionSpec


def checked(spec: OptionSpec, value: Any, what: str = "") -> Any:
    """``value`` as the spec's type within its bounds (``None`` -> the default).

    Raises :class:`explorer.inputs.InputError` (a ValueError) in one sentence that names the
    value as ``what`` (default "The <label>")."""
    what = what or f"The {spec.label}"
    if spec.type is bool:
        return bool(value)
    if spec.type in (int, float):
        low = spec.minimum if spec.minimum is not None else -inputs.MAX_SEED
        high = spec.maximum if spec.maximum is not None else inputs.MAX_SEED
        check = inputs.whole if spec.type is int else inputs.number
        return check(value, what, low, high, spec.default)
    if spec.type is str:
        return inputs.text(value, what)
    return value


def checked_all(
    specs: Mapping[str, OptionSpec], values: Mapping[str, Any], what: Mapping[str, str]
) -> dict[str, Any]:
    """Every value of ``values`` that has a spec, checked (``what``: names for messages)."""
    return {
        name: checked(specs[name], value, what.get(name, "")) if name in specs else value
        for name, value in values.items()
    }
