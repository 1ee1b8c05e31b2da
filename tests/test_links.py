"""Links to one view (explorer/links.py), the start model and ``--model``/``--tab``."""

from __future__ import annotations

import pytest

from explorer import links
from explorer.checkpoints import discover
from explorer.context import SHOWCASE, showcase_key

MODELS = ["cgan-mnist", "dcgan-fashion-mnist"]


def test_a_link_opens_model_tab_seed_and_presenter() -> None:
    query = {"model": "cgan-mnist", "tab": "classes", "seed": "7", "presenter": "1", "psi": "0.7"}
    view = links.parse_link(query, MODELS)
    assert view == links.ViewLink("cgan-mnist", "classes", 7, True)
    # the link made from that view reads back as the same view; the widget's psi rides along
    url = links.build_link(view, "https://me-gan.hf.space/?old=1#x", extra={"psi": 0.7})
    assert url == "https://me-gan.hf.space/?model=cgan-mnist&tab=classes&seed=7&presenter=1&psi=0.7"
    assert (
        links.parse_link(dict(p.split("=") for p in url.split("?")[1].split("&")), MODELS) == view
    )


def test_lenient_spellings_and_defaults() -> None:
    view = links.parse_link({"tab": "/Ask_D", "model": "CGAN-MNIST", "seed": ["1", "2"]}, MODELS)
    assert (view.tab, view.model, view.seed) == ("ask-d", "cgan-mnist", 2)
    assert links.parse_link({}) == links.ViewLink()
    assert links.build_link(links.ViewLink(), "http://h/") == "http://h/"  # nothing to say
    start = links.ViewLink(model="dcgan-fashion-mnist", tab="stylise")
    view, problems = links.read_link({"seed": "3"}, MODELS, start=start)
    assert view == links.ViewLink("dcgan-fashion-mnist", "stylise", 3) and problems == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"model": "nope"}, "no model named 'nope' here; models: cgan-mnist, dcgan-fashion-mnist"),
        ({"tab": "settings"}, "no tab named 'settings'; tabs: generate, classes"),
        ({"seed": "-1"}, "the seed must be a whole number from 0 to"),
        ({"seed": "seven"}, "not 'seven'"),
        ({"seed": str(2**63)}, "the seed must be a whole number"),
        ({"presenter": "maybe"}, "presenter must be 1 or 0, not 'maybe'"),
        ({"model": "x" * 500}, "the link's model is too long (over 200 characters)"),
    ],
)
def test_bad_values_are_named_and_the_good_parts_kept(query: dict, message: str) -> None:
    with pytest.raises(links.LinkError, match="This link cannot be opened") as error:
        links.parse_link({**query, "tab": query.get("tab", "classes")}, MODELS)
    assert message in str(error.value)
    assert "x" * 60 not in str(error.value)  # a long value is never echoed whole
    view, problems = links.read_link({**query, "model": query.get("model", "cgan-mnist")}, MODELS)
    assert len(problems) == 1 and message in problems[0]
    if "model" not in query:
        assert view.model == "cgan-mnist"  # the good part survives a bad one
    assert links.link_problems_text(problems).startswith("⚠️ The link's ")
    assert links.link_problems_text([]) == ""


def test_view_of_widget_values_never_makes_a_bad_link() -> None:
    assert links.view_of("cgan-mnist", "Classes", 7.0, True) == links.ViewLink(
        "cgan-mnist", "classes", 7, True
    )
    assert links.view_of(None, "nowhere", "x", 0) == links.ViewLink()
    assert links.view_of("m", "generate", -5, False).seed is None


def test_the_start_model_is_the_showcase_and_model_overrides_it() -> None:
    catalog = discover()  # the shipped checkpoints
    assert SHOWCASE[0] in catalog.keys()
    assert showcase_key(catalog) == "cgan-mnist"
    assert catalog.get("cgan-mnist").conditional  # every tab, Classes included, works with it
    assert showcase_key(catalog, "dcgan-mnist") == "dcgan-mnist"
    with pytest.raises(ValueError, match="no checkpoint named 'nope'; available: .*cgan-mnist"):
        showcase_key(catalog, "nope")
    empty = discover([], include_default=False)
    assert showcase_key(empty) is None


def test_launcher_takes_model_and_tab_for_both_editions(monkeypatch: pytest.MonkeyPatch) -> None:
    from explorer import launcher, scratch

    monkeypatch.setattr(scratch, "install", lambda *a, **k: None)  # not in the test process

    args = launcher.gradio_parser().parse_args(["--model", "cgan-mnist", "--tab", "Classes"])
    assert (args.model, args.tab) == ("cgan-mnist", "classes")
    with pytest.raises(SystemExit):
        launcher.gradio_parser().parse_args(["--tab", "nowhere"])
    args = launcher.streamlit_parser().parse_args(["--model", "cgan-mnist", "--tab", "ask_d"])
    command = launcher.streamlit_command(args)
    assert command[command.index("--") + 1 :] == [
        "--threads", "1", "--model", "cgan-mnist", "--tab", "ask-d",
    ]  # fmt: skip
    from explorer.streamlit_ui.shared import parse_settings

    settings = parse_settings(command[command.index("--") + 1 :])
    assert (settings.model, settings.tab) == ("cgan-mnist", "ask-d")
    with pytest.raises(SystemExit, match="no checkpoint named 'nope'"):
        launcher.main(["--model", "nope", "--port", "1"])
