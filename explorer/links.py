"""Links that open one view of the explorer: ``?model=cgan-mnist&tab=classes&seed=7``.

Both editions read the same query parameters (a Gradio page from ``gr.Request.query_params``
on load, a Streamlit page from ``st.query_params`` before it draws) and make the same links:

=============  ===================================================================
``model``      a checkpoint's key, as in the model list (``cgan-mnist``)
``tab``        a view: ``generate``, ``classes``, ``interpolate``, ``inside``, ``ask-d``,
               ``convlab``, ``stylise``, ``translate``, ``train``, ``runs``, ``playground``
               (Streamlit: the page's own path, ``/classes``, does the same)
``seed``       the seed of Generate, Classes and Interpolate (seed A): 0 or more
``presenter``  ``1``: the presenter's view (large pictures and labels)
=============  ===================================================================

Other parameters (the latent widget's ``psi`` and sliders, Streamlit's ``embed``) are left to
whoever reads them. :func:`parse_link` is strict (a :class:`LinkError` naming every bad value);
:func:`read_link` is what a page uses: the good parts of a link, and one sentence for each bad
one, so a mistyped seed still opens the right model and tab. No front end is imported here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from explorer.inputs import MAX_SEED

#: The views, by the id both editions use (the Gradio tab's ``id``, the Streamlit page's path).
TABS = (
    "generate",
    "classes",
    "interpolate",
    "inside",
    "ask-d",
    "convlab",
    "stylise",
    "translate",
    "train",
    "runs",
    "playground",
)
#: Each view's title, the same in both editions (a Gradio tab, a Streamlit page).
TITLES = {
    "generate": "Generate",
    "classes": "Classes (cGAN)",
    "interpolate": "Interpolate",
    "inside": "Inside the generator",
    "ask-d": "Ask D",
    "convlab": "Transposed convolution",
    "stylise": "Stylise",
    "translate": "Translate (CycleGAN)",
    "train": "Train",
    "runs": "Runs",
    "playground": "2-D playground",
}
#: The views that show the app-wide model (Classes has its own picker: conditional models).
MODEL_TABS = ("generate", "interpolate", "inside", "ask-d")
#: The views with a seed of their own that a link sets and "Copy link" reads.
SEEDED_TABS = ("generate", "classes", "interpolate")
#: The tab a link without ``tab`` opens.
DEFAULT_TAB = "generate"
#: The query parameters this module reads, in the order links are written.
PARAMETERS = ("model", "tab", "seed", "presenter")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")
_MAX_TEXT = 200  # longer values are refused, and never echoed whole


class LinkError(ValueError):
    """A link with a value the explorer cannot open; the message names each one."""


@dataclass(frozen=True)
class ViewLink:
    """One view of the explorer.

    Attributes:
        model: the checkpoint's key, or None for the start model.
        tab: the view's id (one of :data:`TABS`).
        seed: the seed to show, or None for the page's own (0).
        presenter: the presenter's view (large pictures and labels).
    """

    model: str | None = None
    tab: str = DEFAULT_TAB
    seed: int | None = None
    presenter: bool = False

    def query(self) -> dict[str, str]:
        """The query parameters of this view; defaults are left out."""
        values = {
            "model": self.model,
            "tab": self.tab if self.tab != DEFAULT_TAB else None,
            "seed": str(self.seed) if self.seed is not None else None,
            "presenter": "1" if self.presenter else None,
        }
        return {k: v for k, v in values.items() if v is not None}


def _one(value: Any) -> str | None:
    """A query value as one string: the last of several (``?seed=1&seed=2`` -> "2")."""
    if isinstance(value, list | tuple):
        value = value[-1] if value else None
    return None if value is None else str(value)


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "…")


def checked_tab(text: str) -> str:
    """A start tab (``--tab``) as its id; a ValueError names the tabs there are."""
    tab = normalise_tab(text)
    if tab not in TABS:
        raise ValueError(f"no tab named {text!r}; tabs: {', '.join(TABS)}")
    return tab


def normalise_tab(text: str) -> str:
    """A tab as a link may write it ("Classes", "/classes", "ask_d") -> its id ("ask-d")."""
    return "-".join(text.strip().strip("/").lower().replace("_", " ").split())


def _parse(
    query: Mapping[str, Any], models: Sequence[str] | None, tabs: Sequence[str]
) -> tuple[dict[str, Any], list[str]]:
    """The good values by field name, and one sentence per bad value."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    raw = {name: _one(query.get(name)) for name in PARAMETERS}
    for name, text in raw.items():
        if text is not None and len(text) > _MAX_TEXT:
            problems.append(f"the link's {name} is too long (over {_MAX_TEXT} characters)")
            raw[name] = None

    if (text := raw["model"]) is not None and text.strip():
        text = text.strip()
        if models is None or text in models:
            values["model"] = text
        else:
            folded = {m.lower(): m for m in models}
            if text.lower() in folded:
                values["model"] = folded[text.lower()]
            else:
                known = ", ".join(list(models)[:12]) or "none"
                more = f" and {len(models) - 12} more" if len(models) > 12 else ""
                problems.append(f"no model named {_shown(text)} here; models: {known}{more}")

    if (text := raw["tab"]) is not None and text.strip():
        tab = normalise_tab(text)
        if tab in tabs:
            values["tab"] = tab
        else:
            problems.append(f"no tab named {_shown(text)}; tabs: {', '.join(tabs)}")

    if (text := raw["seed"]) is not None and text.strip():
        try:
            seed = int(text.strip())
        except ValueError:
            seed = -1
        if 0 <= seed <= MAX_SEED:
            values["seed"] = seed
        else:
            problems.append(
                f"the seed must be a whole number from 0 to {MAX_SEED}, not {_shown(text)}"
            )

    if (text := raw["presenter"]) is not None:
        flag = text.strip().lower()
        if flag in _TRUE or flag in _FALSE:
            values["presenter"] = flag in _TRUE
        else:
            problems.append(f"presenter must be 1 or 0, not {_shown(text)}")
    return values, problems


def read_link(
    query: Mapping[str, Any],
    models: Sequence[str] | None = None,
    tabs: Sequence[str] = TABS,
    start: ViewLink | None = None,
) -> tuple[ViewLink, list[str]]:
    """The view a page's query asks for, keeping every good part, and one sentence for each
    bad part (empty when the link is fine). ``models``: the keys a ``model`` may name (None:
    any); ``start``: the view where the link says nothing (``--model``/``--tab``)."""
    values, problems = _parse(query, models, tabs)
    return replace(start or ViewLink(), **values), problems


def parse_link(
    query: Mapping[str, Any], models: Sequence[str] | None = None, tabs: Sequence[str] = TABS
) -> ViewLink:
    """The view a query asks for (see the module docstring).

    Raises:
        LinkError: a model the explorer does not have, an unknown tab, a seed that is not a
            whole number from 0 to ``MAX_SEED``, a presenter flag other than 1/0, or a value
            over 200 characters; the message names every one.
    """
    view, problems = read_link(query, models, tabs)
    if problems:
        raise LinkError("This link cannot be opened: " + "; ".join(problems) + ".")
    return view


def link_problems_text(problems: Sequence[str]) -> str:
    """What a page says about the bad parts of the link it was opened with ("" for none)."""
    if not problems:
        return ""
    return "⚠️ The link's " + "; ".join(problems) + ". The rest of the view is as linked."


def build_link(view: ViewLink, base_url: str = "", extra: Mapping[str, Any] | None = None) -> str:
    """The link to ``view``: ``base_url`` plus its query (``extra`` parameters after it, e.g.
    the latent widget's own). ``base_url`` may be "" for a query alone ("?model=...")."""
    query = view.query() | {k: str(v) for k, v in (extra or {}).items() if v is not None}
    base = base_url.split("?")[0].split("#")[0]
    return f"{base}?{urlencode(query)}" if query else base


def view_of(model: Any, tab: Any, seed: Any, presenter: Any) -> ViewLink:
    """The view a page shows now, from its widgets' values (lenient: a value a link could not
    carry is left out; a tab outside :data:`TABS` becomes the default)."""
    tab_id = normalise_tab(str(tab)) if tab else DEFAULT_TAB
    try:
        seed_value = int(seed) if seed is not None else None
    except (TypeError, ValueError):
        seed_value = None
    if seed_value is not None and not 0 <= seed_value <= MAX_SEED:
        seed_value = None
    return ViewLink(
        model=str(model) if model else None,
        tab=tab_id if tab_id in TABS else DEFAULT_TAB,
        seed=seed_value,
        presenter=bool(presenter),
    )


def page_view(
    tab: Any,
    presenter: Any,
    model: Any,
    seeds: Mapping[str, Any],
    classes_model: Any = None,
) -> ViewLink:
    """The view to link to from the widgets' values: the Classes tab links its own model and
    seed, Interpolate its own seed, every other tab the app-wide model and Generate's seed
    (``seeds`` maps each of :data:`SEEDED_TABS` to its page's seed)."""
    tab_id = normalise_tab(str(tab)) if tab else DEFAULT_TAB
    if tab_id == "classes":
        model = classes_model
    seed = seeds.get(tab_id if tab_id in SEEDED_TABS else "generate")
    return view_of(model, tab_id, seed, presenter)


def open_link(
    query: Mapping[str, Any],
    models: Sequence[str],
    tab: str = DEFAULT_TAB,
    model: str | None = None,
) -> tuple[ViewLink, str]:
    """The view a page's query asks for (the start ``tab`` and ``model`` where it names none),
    and what to say about its bad parts ("" when there are none)."""
    view, problems = read_link(query, models, start=ViewLink(model=model, tab=tab))
    return view, link_problems_text(problems)


@dataclass(frozen=True)
class LinkTargets:
    """What opening a link sets, the same in both editions.

    Attributes:
        model: the app-wide model picker's checkpoint (None: leave it).
        classes_model: the Classes page's picker, which offers conditional models only.
        seeds: the seed of the page the link opens (Generate's for a tab without its own).
        presenter: the presenter's view.
    """

    model: str | None
    classes_model: str | None
    seeds: dict[str, int]
    presenter: bool


def link_targets(view: ViewLink, conditional: Sequence[str]) -> LinkTargets:
    """The widgets a link's ``view`` sets (``conditional``: the cGAN checkpoints' keys)."""
    seeded = view.tab if view.tab in SEEDED_TABS else DEFAULT_TAB
    return LinkTargets(
        model=view.model,
        classes_model=view.model if view.model in conditional else None,
        seeds={seeded: view.seed} if view.seed is not None else {},
        presenter=view.presenter,
    )
