"""Renders the article: Jinja2 templates plus each figure's data into site/index.html.

Output must be byte-identical for the same inputs (so the site can be diffed and cached by
any host), which is why every JSON written here goes through `to_json`: sorted keys, floats
rounded to a fixed number of significant digits, no NaN.
"""
from __future__ import annotations

import json
import math
import traceback
from datetime import date
from pathlib import Path

import jinja2
import numpy as np
from markupsafe import Markup

from generator.figures import FIGURE_NAMES, Figure
from model.base import UserError

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

# Six significant digits: well below a pixel for pen coordinates and below what a reader can
# see in a colour; figures that ship many numbers quantise further themselves.
SIGNIFICANT_DIGITS = 6


class TemplateError(UserError):
    """A template under templates/ that cannot be rendered: where, and what Jinja2 said."""


def _template_error(error: jinja2.TemplateError) -> TemplateError:
    """The template file and line an error is in: a syntax error knows them; for one met while
    rendering (an undefined name), the innermost frame in a template tells."""
    filename, line = getattr(error, "filename", None), getattr(error, "lineno", None)
    if not filename:
        frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename.endswith(".j2")]
        filename, line = (frames[-1].filename, frames[-1].lineno) if frames else (str(TEMPLATES), None)
    where = f"{filename}:{line}" if line else filename
    message = " ".join(str(error.message or error).split())
    return TemplateError(f"{where}: {type(error).__name__}: {message}: fix the template")


def _plain(value):
    """numpy and float values -> plain JSON values, floats rounded (deterministic text)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"non-finite number {value} in figure data; replace it before writing")
        rounded = float(f"{value:.{SIGNIFICANT_DIGITS}g}")
        return int(rounded) if rounded.is_integer() and abs(rounded) < 2**53 else rounded
    return value


def to_json(value) -> str:
    """Compact, deterministic JSON."""
    return json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), allow_nan=False)


NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def spelled(count: int) -> str:
    """A count as the article's prose writes it (the `spelled` filter): in words up to ten,
    else in digits with thousands separated ("twenty" was once written for any model)."""
    return NUMBER_WORDS[count] if 0 <= count < len(NUMBER_WORDS) else f"{count:,}"


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, 92nd, 93rd, 111th (the `ordinal` filter)."""
    number = int(number)
    suffix = "th" if 11 <= number % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


def long_date(iso: str) -> str:
    """2026-12-05 as the page writes it, 5 December 2026, in English whatever the machine's locale
    (the `long_date` filter)."""
    day = date.fromisoformat(iso)
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def listed(items) -> str:
    """Names as prose lists them: "A", "A and B", "A, B and C" (the `listed` filter)."""
    items = [str(item) for item in items]
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)


def bibtex(kind: str, key: str, fields: dict) -> str:
    """A BibTeX entry, its fields in the order given; empty fields left out."""
    lines = [f"  {name} = {{{value}}}" for name, value in fields.items() if value]
    return f"@{kind}{{{key},\n" + ",\n".join(lines) + "\n}"


def _script_json(value) -> str:
    # Inside <script>, "</script" or "<!--" in a string would end or confuse the element.
    return to_json(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,  # a typo in a template fails the build, not the page
        keep_trailing_newline=True,
    )
    env.filters.update(spelled=spelled, ordinal=ordinal, long_date=long_date, listed=listed)
    env.globals["bibtex"] = bibtex
    return env


def chart_markup(name: str, chart: dict | None) -> Markup:
    """A chart as the page shows it: the SVG drawn at build time, shown at once, and the
    compiled Vega spec that templates/js/charts.js turns into a live view near the viewport."""
    if chart is None:
        return Markup("")
    return Markup(f'<div class="chart" data-chart="{name}">{chart["svg"]}'
                  f'<script type="application/json">{_script_json(chart["vega"])}</script></div>')


def render_article(figures: list[Figure], charts: dict[str, dict], context: dict) -> str:
    """The page. `figure(name)` in the template places a figure: its partial (or a
    placeholder while it is being written) and its inlined data. `charts` maps a figure name
    to its chart (generator.assets.render_charts), which the partial places with `{{ chart }}`."""
    env = _environment()
    by_name = {figure.name: figure for figure in figures}
    # each built figure's own page script; other modules there are helpers the scripts import
    scripts = [name for name in FIGURE_NAMES
               if name in by_name and (TEMPLATES / "js" / "figures" / f"{name}.js").is_file()]

    def place(name: str) -> Markup:
        figure = by_name.get(name, Figure(name))
        chart = chart_markup(name, charts.get(name))
        partial = f"partials/{name}.html.j2"
        if (TEMPLATES / partial).is_file():
            html = env.get_template(partial).render(**context, figure=figure, chart=chart)
        else:
            html = (f'<figure class="placeholder" data-figure="{name}">'
                    f"<p>The “{name}” figure is on its way.</p>{chart}</figure>")
        if figure.data is not None:
            html += (f'\n<script type="application/json" id="figure-data-{name}">'
                     f"{_script_json(figure.data)}</script>")
        return Markup(html)

    def data_of(name: str):
        """A figure's data, for article text that states what the figure measured."""
        return by_name.get(name, Figure(name)).data or {}

    env.globals.update(figure=place, figure_data=data_of, figure_scripts=scripts)
    try:
        return env.get_template("article.html.j2").render(**context)
    except jinja2.TemplateError as error:
        raise _template_error(error) from None


def write_figure_files(figures: list[Figure], site: Path) -> int:
    """Each figure's on-demand files under site/data/<name>/ (JSON, or bytes written as they
    are); returns how many were written."""
    count = 0
    for figure in figures:
        for relative, value in sorted(figure.files.items()):
            path = (site / "data" / figure.name / relative).resolve()
            if not path.is_relative_to((site / "data" / figure.name).resolve()):
                raise ValueError(f"figure {figure.name}: file path {relative!r} leaves site/data/{figure.name}/")
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(value, bytes):  # already compact (for example quantised cell values)
                path.write_bytes(value)
            else:
                path.write_text(to_json(value))
            count += 1
    return count
