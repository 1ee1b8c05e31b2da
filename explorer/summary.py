"""A checkpoint in plain words, for a room: one headline and a few figures, each with its help.

    DCGAN on Fashion-MNIST · 12,000 steps
    47% of samples look like a clear item (real photos: 75%) · every class drawn (rarest: Coat,
    6%) · FID 60 (real vs real: 0.57)

:func:`model_summary` turns a checkpoint's ``meta.json`` into a :class:`ModelSummary` (plain
data); both editions show it with :func:`summary_html` (figures with a hover help, a "what the
figures mean" list and the raw ``meta.json`` a click away), and
:func:`summary_markdown` writes it as Markdown. Every sentence is here,
once.

Which classifier says what (see pretrained/README.md): the shares (clear samples, classes,
labels) are the **held-out judge**'s when ``metrics.judge`` holds them (it was never used to
choose a checkpoint, and it also measured real test images, the comparison a room needs), else
the reference classifier's; the FID is the reference classifier's with its real-vs-real floor.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any

from explorer.context import public_text
from trainers.registry import family_label

#: Data sets by name, and what one sample of each is called ("a clear digit").
DATASETS: dict[str, tuple[str, str, str]] = {  # name -> (display name, a sample, real images)
    "mnist": ("MNIST", "digit", "real digits"),
    "fashion-mnist": ("Fashion-MNIST", "item", "real photos"),
    "cifar10": ("CIFAR-10", "object", "real photos"),
}
#: A class drawn less often than this share of samples is called out as rarely drawn.
RARE_SHARE = 0.02

HELP_CLEAR = (
    "Share of 10,000 samples that {who} reads as one class with at least 90% confidence; in "
    "brackets the same share for the real test images. Higher is better; the real figure is "
    "about the best to expect."
)
HELP_LABELS = (
    "Share of samples that {who} reads as the class G was asked for (a conditional GAN); in "
    "brackets the class it obeys least."
)
HELP_CLASSES = (
    "Mode coverage: the share of samples in the least drawn class, as read by {who}. With "
    "{n} classes an even spread gives {even:.0%} each; a GAN that forgets a class shows 0%."
)
HELP_CODE = (
    "An InfoGAN code: z's first {k} numbers pick one of {k} categories (the largest wins) that "
    "G invented without labels. Each category is named by the class the reference classifier "
    "reads most often among its samples; in brackets how many of a category's samples are that "
    "class, on average (100%: every category is one class). Drag one of those numbers above "
    "the others to watch the category jump."
)
HELP_FID = (
    "Classifier-FID: the Fréchet distance between the reference classifier's features of real "
    "test images and of 10,000 samples (not Inception FID). Lower is better; in brackets the "
    "distance between real train and real test images, the floor."
)
HELP_UNMEASURED = (
    "This checkpoint has no measured figures yet: gan-train evaluate CHECKPOINT --data-dir "
    "DATA --write-meta measures them with the shipped classifiers."
)
JUDGE = "a held-out classifier (never used to choose this checkpoint)"
REFERENCE = "the project's reference classifier"


@dataclass(frozen=True)
class Figure:
    """One figure on screen: its text and a one-line help (what it means, how it was measured)."""

    text: str
    help: str


@dataclass(frozen=True)
class ModelSummary:
    """A checkpoint in plain words.

    Attributes:
        headline: family, data set and training steps, e.g. "cGAN on MNIST · 12,000 steps".
        figures: the measured figures, most telling first (empty when nothing was measured).
        meta_json: the whole ``meta.json``, indented (server paths scrubbed when hosted).
    """

    headline: str
    figures: tuple[Figure, ...] = field(default_factory=tuple)
    meta_json: str = "{}"

    def text(self) -> str:
        """Everything on one line: the headline and the figures joined by " · "."""
        return " · ".join([self.headline, *(f.text for f in self.figures)])


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _fid(value: float) -> str:
    """60.0 -> "60", 5.386 -> "5.4", 0.569 -> "0.57": two or three significant figures."""
    return f"{value:.0f}" if value >= 10 else f"{value:.2g}"


def family_name(meta: dict[str, Any]) -> str:
    """The family as the registry names it ("DCGAN", "cGAN"), with a resize-conv G or an
    InfoGAN code noted."""
    return family_label(meta.get("model"), meta.get("config"))


def headline(meta: dict[str, Any]) -> str:
    """Family, data set and steps: "DCGAN on Fashion-MNIST · 12,000 steps"."""
    dataset = str(meta.get("dataset", "?"))
    text = f"{family_name(meta)} on {DATASETS.get(dataset, (dataset,))[0]}"
    steps = _number(meta.get("step"))
    return text + (f" · {int(steps):,} steps" if steps is not None else "")


def _figures(meta: dict[str, Any]) -> list[Figure]:
    metrics = meta.get("metrics") or {}
    judge = metrics.get("judge") if isinstance(metrics.get("judge"), dict) else {}
    _, sample, real = DATASETS.get(str(meta.get("dataset")), ("", "sample", "real images"))
    figures: list[Figure] = []

    # clear samples: the judge's (with the real test images' share), else the reference's
    clear, real_clear, who = _number(judge.get("confident_share")), None, JUDGE
    if clear is not None:
        real_clear = _number(judge.get("real_test_confident_share"))
    else:
        clear, who = _number(metrics.get("confident_share")), REFERENCE
    if clear is not None:
        text = f"{clear:.0%} of samples look like a clear {sample}"
        if real_clear is not None:
            text += f" ({real}: {real_clear:.0%})"
        figures.append(Figure(text, HELP_CLEAR.format(who=who)))

    # a cGAN's labels
    source = judge if _number(judge.get("label_accuracy")) is not None else metrics
    accuracy = _number(source.get("label_accuracy"))
    if accuracy is not None:
        who = JUDGE if source is judge else REFERENCE
        text = f"draws the class asked for {accuracy:.0%} of the time"
        per_class = [c for c in source.get("per_class") or [] if _number(c.get("accuracy"))]
        if per_class:
            worst = min(per_class, key=lambda c: c["accuracy"])
            text += f" (worst: {worst.get('name', worst.get('class'))}, {worst['accuracy']:.0%})"
        figures.append(Figure(text, HELP_LABELS.format(who=who)))

    # mode coverage
    source = judge if _number(judge.get("smallest_class_share")) is not None else metrics
    rarest = _number(source.get("smallest_class_share"))
    if rarest is not None:
        who = JUDGE if source is judge else REFERENCE
        n = len(meta.get("class_names") or source.get("class_shares") or []) or 10
        name = source.get("rarest_class")
        share = f"{name}, {rarest:.0%}" if name else f"{rarest:.0%}"
        text = (
            f"every class drawn (rarest: {share})"
            if rarest >= RARE_SHARE
            else f"one class is rarely drawn ({share})"
        )
        figures.append(Figure(text, HELP_CLASSES.format(who=who, n=n, even=1 / n)))

    # an InfoGAN code: what each category G invented draws
    categories = [c for c in metrics.get("code_categories") or [] if c.get("read_as") is not None]
    if categories:
        names = ", ".join(str(c["read_as"]) for c in categories)
        mean = sum(c["share"] for c in categories) / len(categories)
        text = f"its {len(categories)} code categories draw {names} ({mean:.0%} one class)"
        figures.append(Figure(text, HELP_CODE.format(k=len(categories))))

    # FID against its floor
    fid, floor = (
        _number(metrics.get("classifier_fid")),
        _number(metrics.get("classifier_fid_floor_train_vs_test")),
    )
    if fid is not None:
        text = f"FID {_fid(fid)}" + (f" (real vs real: {_fid(floor)})" if floor is not None else "")
        figures.append(Figure(text, HELP_FID))
    return figures


def model_summary(meta: dict[str, Any], hosted: bool = False) -> ModelSummary:
    """A checkpoint's ``meta.json`` in plain words (see the module docstring).

    ``hosted``: strangers see the page, so server paths in the raw metadata are cut to their
    last part (:func:`explorer.context.public_text`).
    """
    figures = _figures(meta)
    if not figures:
        figures = [Figure("not measured yet", HELP_UNMEASURED)]
    raw = json.dumps(meta, indent=2, ensure_ascii=False, default=str)
    return ModelSummary(headline(meta), tuple(figures), public_text(raw) if hosted else raw)


def summary_markdown(summary: ModelSummary) -> str:
    """The summary as Markdown: the headline in bold, the figures on the next line."""
    return f"**{summary.headline}**  \n" + " · ".join(f.text for f in summary.figures)


def summary_html(summary: ModelSummary) -> str:
    """The summary as HTML for both editions: the headline, the figures (each with its help as
    a hover title), "What the figures mean" and the raw ``meta.json`` behind a click."""
    e = html.escape
    figures = " · ".join(
        f'<span class="gx-figure" title="{e(f.help)}">{e(f.text)}</span>' for f in summary.figures
    )
    helps = "".join(f"<li><b>{e(f.text)}</b>: {e(f.help)}</li>" for f in summary.figures)
    return (
        '<div class="gx-summary">'
        f'<div class="gx-headline"><b>{e(summary.headline)}</b></div>'
        f'<div class="gx-figures">{figures}</div>'
        f"<details><summary>What the figures mean</summary><ul>{helps}</ul></details>"
        f"<details><summary>meta.json</summary><pre>{e(summary.meta_json)}</pre></details>"
        "</div>"
    )


def meta_html(meta: dict[str, Any], hosted: bool = False) -> str:
    """A checkpoint's ``meta.json`` in plain words, as the HTML both editions show above a
    page (:func:`model_summary` then :func:`summary_html`)."""
    return summary_html(model_summary(meta, hosted))
