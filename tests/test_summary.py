"""The model summary in plain words (explorer/summary.py), for every shipped checkpoint."""

from __future__ import annotations

import json
import re

import pytest

from explorer import summary
from explorer.checkpoints import discover

SHIPPED = discover()


def test_the_issue_example_reads_as_plain_words() -> None:
    text = summary.model_summary(SHIPPED.get("dcgan-fashion-mnist").meta).text()
    assert text == (
        "DCGAN + InfoGAN code (10 categories) on Fashion-MNIST · 47,000 steps · 55% of samples "
        "look like a clear item (real photos: 75%) · every class drawn (rarest: Shirt, 7%) · its "
        "10 code categories draw Bag, Pullover, Trouser, Sneaker, Ankle boot, Pullover, Coat, "
        "T-shirt/top, Sandal, T-shirt/top (68% one class) · FID 26 (real vs real: 0.57)"
    )
    cgan = summary.model_summary(SHIPPED.get("cgan-mnist").meta)
    assert cgan.headline == "cGAN on MNIST · 12,000 steps"
    assert [f.text for f in cgan.figures] == [
        "96% of samples look like a clear digit (real digits: 99%)",
        "draws the class asked for 98% of the time (worst: 2, 96%)",
        "every class drawn (rarest: 2, 10%)",
        "FID 5.4 (real vs real: 1.1)",
    ]


@pytest.mark.parametrize("key", SHIPPED.keys())
def test_every_shipped_checkpoint_has_figures_with_help_and_no_key_dump(key: str) -> None:
    entry = SHIPPED.get(key)
    result = summary.model_summary(entry.meta)
    assert result.headline.startswith(summary.family_name(entry.meta) + " on ")
    assert f"{int(entry.meta['step']):,} steps" in result.headline
    texts = [f.text for f in result.figures]
    assert len(texts) >= 3 and any(t.startswith("FID ") for t in texts)
    assert any("look like a clear" in t for t in texts)
    for figure in result.figures:  # a one-line help that says what and how
        assert 40 < len(figure.help) < 400 and "\n" not in figure.help
    assert entry.conditional == any("class asked for" in t for t in texts)
    line = result.text()
    assert not re.search(r"[a-z]+_[a-z]+", line), line  # no metric keys like confident_share
    markdown = summary.summary_markdown(summary.model_summary(entry.meta))
    assert markdown.startswith(f"**{result.headline}**") and texts[0] in markdown
    page = summary.summary_html(result)
    assert page.count('class="gx-figure" title="') == len(texts)
    assert "<summary>meta.json</summary>" in page and json.loads(result.meta_json) == entry.meta


def test_hosted_summary_hides_server_paths_and_text_is_escaped() -> None:
    meta = {
        "model": "dcgan",
        "dataset": "my<data>",
        "step": 3,
        "metrics": {"confident_share": 0.5, "judge": {"judge": "/srv/app/pretrained/judges/x"}},
    }
    hosted = summary.model_summary(meta, hosted=True)
    assert "/srv/app" not in hosted.meta_json and "…/x" in hosted.meta_json
    assert "/srv/app" in summary.model_summary(meta).meta_json
    page = summary.summary_html(hosted)
    assert "my&lt;data&gt;" in page and "my<data>" not in page
    # the reference classifier's figure when the judge has none, without a real comparison
    assert [f.text for f in hosted.figures] == ["50% of samples look like a clear sample"]
    assert "reference classifier" in hosted.figures[0].help


def test_unmeasured_and_rarely_drawn() -> None:
    bare = summary.model_summary({"model": "mlp-gan", "dataset": "mnist"})
    assert bare.text() == "MLP-GAN on MNIST · not measured yet"
    assert "gan-train evaluate" in bare.figures[0].help
    collapsed = {"model": "dcgan", "dataset": "mnist", "metrics": {"smallest_class_share": 0.004}}
    assert summary.model_summary(collapsed).figures[0].text == "one class is rarely drawn (0%)"


def test_family_names_note_resize_conv_and_an_infogan_code() -> None:
    from explorer.checkpoints import describe

    cases = {
        "DCGAN": {},
        "DCGAN (resize-conv)": {"upsample": "resize-conv"},
        "DCGAN + InfoGAN code (10 categories)": {"latent_code": 10},
    }
    for expected, config in cases.items():
        meta = {"model": "dcgan", "dataset": "mnist", "config": config}
        assert summary.family_name(meta) == expected
        assert describe(meta).startswith(expected + " · MNIST")
    assert summary.family_name({"model": "no-such-family"}) == "no-such-family"


def test_an_infogan_code_says_what_each_category_draws() -> None:
    meta = {
        "model": "dcgan",
        "dataset": "mnist",
        "config": {"latent_code": 2},
        "metrics": {
            "confident_share": 0.8,
            "code_categories": [
                {"category": 0, "samples": 5, "read_as": "7", "share": 0.96},
                {"category": 1, "samples": 5, "read_as": "4", "share": 0.51},
            ],
        },
    }
    figures = summary.model_summary(meta).figures
    assert figures[-1].text == "its 2 code categories draw 7, 4 (74% one class)"
    assert "z's first 2 numbers" in figures[-1].help
