"""Numbers from a page, checked before any work: one sentence for what is out of range.

A browser's sliders keep values in range, but a handler is also reachable through the API
(``gradio_client``, curl) with anything: NaN, infinity, ``None``, 10**12 samples. Each tab
calls these at its top, so a bad number ends in :class:`InputError` (a ``ValueError``) that the
tab shows as its usual "⚠️" line, never in a hang, an ``OverflowError`` or a traceback.

    n = whole(grid, "The grid side", 1, 8, default=4)          # 1..8, None -> 4
    psi = number(truncation, "Truncation", 0.0, 1.5, default=1.0)
"""

from __future__ import annotations

import math
from typing import Any

#: Seeds: numpy's default_rng takes any non-negative integer; we keep them to 64 bits.
MAX_SEED = 2**63 - 1


class InputError(ValueError):
    """A value a page sent that cannot be used; the message is one sentence."""


def _as_float(value: Any, what: str) -> float:
    if isinstance(value, bool):
        return float(value)
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{what} must be a number, got {str(value)[:40]!r}.") from None
    if not math.isfinite(number):
        raise InputError(f"{what} must be a finite number, got {value!r}.")
    return number


def number(value: Any, what: str, low: float, high: float, default: float) -> float:
    """``value`` as a float in [low, high] (``None`` or "" -> ``default``)."""
    if value is None or value == "":
        return float(default)
    result = _as_float(value, what)
    if not low <= result <= high:
        raise InputError(f"{what} must be between {low:g} and {high:g}, got {result:g}.")
    return result


def whole(value: Any, what: str, low: int, high: int, default: int) -> int:
    """``value`` as an int in [low, high] (``None`` or "" -> ``default``; 3.0 is 3, 3.5 is refused)."""
    if value is None or value == "":
        return int(default)
    result = _as_float(value, what)
    if not result.is_integer():
        raise InputError(f"{what} must be a whole number, got {result:g}.")
    if not low <= result <= high:
        raise InputError(f"{what} must be between {low:,} and {high:,}, got {result:.6g}.")
    return int(result)


def seed(value: Any, what: str = "The seed") -> int:
    """A seed: a whole number from 0 to 2**63 - 1 (``None`` -> 0)."""
    return whole(value, what, 0, MAX_SEED, 0)


def text(value: Any, what: str, max_length: int = 200) -> str | None:
    """A short text value, or None; other types and very long texts are refused."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"{what} must be text.")
    if len(value) > max_length:
        raise InputError(f"{what} is too long (over {max_length} characters).")
    return value
