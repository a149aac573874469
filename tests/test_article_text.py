"""The article's words: they name the data the build shows, and speak to readers, not builders.

Built with the tiny model of conftest.py, once on synthetic lines (what an offline build shows)
and once on the original article's human lines (skipped without ../shared/distill); the
visible text is the page without its scripts, styles and markup.
"""
import html
import json
import re

import pytest

import build
from generator.figures import lines_kind
from generator.render import ordinal
from model.data import CONFIG_NAME, load, write_json_lines

BUILDER_PHRASES = ("computed when the page was built", "the build found", "the build measures",
                   "python -m model.train", "when the page was built")
# What only a builder knows: file names, corpus specs, modules, commands and their options.
IDENTIFIERS = (r"\b[\w-]+\.(?:json|py|h5|txt|gz|xml)\b", r"\bsynthetic:\d", r"\bmodel\.[a-z]+\b",
               r"post--handwriting", r"\bpython\b", r"(?<![\w-])--[a-z]", r"\bb64_")


def visible_text(site) -> str:
    page = (site / "index.html").read_text()
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def build_tiny(tmp_path_factory, tiny_artefact, data: str, **options):
    root = tmp_path_factory.mktemp("words")
    build.build(build.BuildConfig(weights=str(tiny_artefact), data=data, seed=0, out=str(root / "site"),
                                  cache=str(root / "cache"), **options), say=lambda message: None)
    return visible_text(root / "site")


def test_kind_of_lines_follows_their_source(tiny_lines):
    assert lines_kind(load("synthetic:2")) == "synthetic"
    assert lines_kind(load(tiny_lines)) == ""  # a folder that does not say what it holds


def converted_iam(tiny_lines, folder, config=True):
    """The tiny lines as `python -m model.data convert lineStrokes-all.tar.gz` writes IAM-OnDB's:
    IAM's line names, texts beside, and (unless `config` is False) the stage's _config.json."""
    names = ["a01-000u-01", "a01-000u-02", "a01-001w-01", "h02-037-01"]
    write_json_lines(load(tiny_lines), folder, names)
    if config:
        (folder / CONFIG_NAME).write_text(json.dumps({"stage": "convert", "source": "lineStrokes-all.tar.gz"}))
    return folder


def test_converted_iam_lines_are_human(tiny_lines, tmp_path):
    assert lines_kind(load(converted_iam(tiny_lines, tmp_path / "iam"))) == "human"
    assert lines_kind(load(converted_iam(tiny_lines, tmp_path / "bare", config=False))) == "human"
    synthetic = tmp_path / "synthetic"  # a synth folder stays synthetic, whatever its names
    write_json_lines(load("synthetic:2"), synthetic, ["a01-000u-01", "a01-000u-02"])
    (synthetic / CONFIG_NAME).write_text(json.dumps({"stage": "synth", "lines": 2}))
    assert lines_kind(load(synthetic)) == "synthetic"


def test_a_converted_iam_folder_reads_as_human_handwriting(tmp_path_factory, tiny_artefact, tiny_lines):
    folder = converted_iam(tiny_lines, tmp_path_factory.mktemp("converted") / "iam-lines")
    text = build_tiny(tmp_path_factory, tiny_artefact, str(folder))
    assert "a line of human handwriting" in text and "Human line" in text
    assert "4 lines from iam-lines (human handwriting)" in text


def test_synthetic_lines_are_never_called_human(tmp_path_factory, tiny_artefact):
    text = build_tiny(tmp_path_factory, tiny_artefact, "synthetic:2")
    assert "a line of synthetic handwriting" in text
    assert "human handwriting plays" not in text and "a line of human handwriting" not in text
    assert "Synthetic line 1" in text and "Human line" not in text


def test_human_lines_are_called_human(tmp_path_factory, tiny_artefact, distill):
    text = build_tiny(tmp_path_factory, tiny_artefact, "distill")
    assert "a line of human handwriting" in text and "Human line" in text


def test_no_builder_phrases_and_the_back_matter_is_there(tiny_site):
    text = visible_text(tiny_site)
    for phrase in BUILDER_PHRASES:
        assert phrase not in text.lower(), phrase
    for part in ("Shan Carter, David Ha, Ian Johnson and Chris Olah", "Acknowledgements", "Contributions", "Cite",
                 "Hochreiter", "van der Maaten", "Appendix: the cells, measured", "Appendix: rebuild it yourself"):
        assert part in text, part
    assert "bits" in text and "nats" not in text.split("Appendix: about the model")[0]


def test_every_note_and_citation_has_its_target(tiny_site):
    page = (tiny_site / "index.html").read_text()
    targets = set(re.findall(r'id="([^"]+)"', page))
    links = re.findall(r'href="#([^"]+)"', page)
    assert links and all(link in targets for link in links), sorted(set(links) - targets)


def test_every_number_in_the_text_is_the_models_own(tmp_path_factory, tiny_artefact, tiny_lines):
    text = build_tiny(tmp_path_factory, tiny_artefact, str(tiny_lines), writer="none")  # 1 x 16 cells, 3 mixtures
    assert "one layer of 16 memory cells" in text and "a blend of three overlapping" in text
    assert "16 numbers updated at every step" in text
    assert "each of the three gets" in text and "among its three clouds" in text
    assert "twenty" not in text and "hundred" not in text
    metrics = json.loads((tiny_artefact / "metrics.json").read_text())
    assert f"on {metrics['train_lines']} lines from {tiny_lines.name} in " in text


def test_the_acknowledgements_name_only_what_the_page_uses(tmp_path_factory, tiny_artefact, tiny_lines):
    own = build_tiny(tmp_path_factory, tiny_artefact, str(tiny_lines), writer="none")
    assert "Hershey" not in own and "this page uses their" not in own
    synthetic = build_tiny(tmp_path_factory, tiny_artefact, "synthetic:2", writer="none")
    assert ("The synthetic handwriting is set in six of A. V. Hershey’s fonts (three scripts, a print, a roman "
            "and an italic), from Attila Kolinger’s Hershey-Fonts package.") in synthetic


def test_the_page_links_to_its_source_when_it_is_known(tmp_path_factory, tiny_artefact, tiny_lines, monkeypatch):
    url = "https://github.com/someone/handwriting"
    root = tmp_path_factory.mktemp("linked")
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "someone/handwriting")  # as GitHub Actions sets them
    assert build.main(["--weights", str(tiny_artefact), "--data", str(tiny_lines), "--writer", "none",
                       "--out", str(root / "site"), "--cache", str(root / "cache")]) == 0
    page = (root / "site" / "index.html").read_text()
    assert f'<a href="{url}">its source</a>' in page
    assert json.loads((root / "site" / "build.json").read_text())["source_url"] == url
    unlinked = build_tiny(tmp_path_factory, tiny_artefact, str(tiny_lines), writer="none")
    assert "its source" not in unlinked


def test_the_writers_rows_follow_the_lines_it_learned(tiny_site):
    text = visible_text(tiny_site)  # the committed writer learned lines of up to 66 characters (metrics.json)
    assert "It learned from lines of at most 66 characters; a longer text is written in rows" in text


def test_the_writers_card_says_what_was_measured(tiny_site):
    text = visible_text(tiny_site)  # the committed writer's about.json: a staged run, told its hand
    assert ("trained for two passes on lines from the same source, scored -2.2408; this one does 1.32 nats per point"
            in text)
    assert "Told which hand to write in, as the Hand picker does, and given no line, it wrote in that hand 84%" in text


def test_no_internal_identifier_reaches_the_reader(tiny_site):
    """The tiny model's about.json names its source as model.train does ("model.train on ..."), the
    committed writer's train.json a corpus spec (synthetic:30000:chars=3-12): the page says what
    they are in words."""
    text = visible_text(tiny_site)
    for pattern in IDENTIFIERS:
        assert not re.search(pattern, text), re.search(pattern, text).group(0)
    assert "in lines of about 3 to 50 characters" in text  # the writer's corpus, in words


def test_ordinals():
    expected = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 11: "11th", 12: "12th", 13: "13th", 21: "21st",
                22: "22nd", 92: "92nd", 93: "93rd", 100: "100th", 101: "101st", 111: "111th", 112: "112th"}
    assert {number: ordinal(number) for number in expected} == expected


def test_every_ordinal_in_the_page_is_right(tiny_site):
    found = re.findall(r"\b(\d+)(st|nd|rd|th)\b", visible_text(tiny_site))
    assert found, "the appendix ranks cells by percentile"
    assert [number + suffix for number, suffix in found] == [ordinal(int(number)) for number, _ in found]


def section(text, title, following):
    return text.split(f" {title} ", 1)[1].split(f" {following} ", 1)[0]


def test_the_conclusion_says_what_the_page_does_and_what_is_next(tiny_site, tmp_path_factory, tiny_artefact,
                                                                 tiny_lines):
    with_writer = section(visible_text(tiny_site), "Conclusion", "Acknowledgements")
    assert "A second network writes whatever you type" in with_writer
    assert "a model that adapts to your hand in the page itself" in with_writer
    assert "a network that writes a given text" not in with_writer
    assert "people’s hands, in the IAM On-Line Handwriting Database" in with_writer  # the writer's are synthetic
    without = section(build_tiny(tmp_path_factory, tiny_artefact, str(tiny_lines), writer="none"),
                      "Conclusion", "Acknowledgements")
    assert "a network that writes a given text" in without and "A second network" not in without


EDITION = {
    "authors": [{"name": "Ada Lovelace", "affiliation": "Analytical Society", "url": "https://example.org/ada"},
                {"name": "Charles Babbage"}],
    "published": "2027-03-01", "updated": "2027-04-02", "url": "https://example.org/handwriting/",
    "contributions": "Ada wrote the text; Charles built the engine.",
    "original": {"authors": [{"name": "Shan Carter"}, {"name": "David Ha"}], "published": "2016-12-06",
                 "url": "https://distill.pub/2016/handwriting/", "doi": "10.23915/distill.00004",
                 "contributions": "They wrote the original."},
}


def test_the_apparatus_follows_the_editions_settings(tmp_path_factory, tiny_artefact, tiny_lines):
    folder = tmp_path_factory.mktemp("edition with spaces")
    (folder / "my edition.json").write_text(json.dumps(EDITION))
    options = {"writer": "none", "edition": str(folder / "my edition.json")}
    text = re.sub(r" ([,;.])", r"\1", build_tiny(tmp_path_factory, tiny_artefact, str(tiny_lines), **options))
    assert "This edition Ada Lovelace (Analytical Society), Charles Babbage Published" in text  # (tags left spaces)
    assert "Published 1 March 2027; updated 2 April 2027" in text
    assert "Original article and figures Shan Carter and David Ha, Distill, 6 December 2016" in text
    assert "Ada wrote the text; Charles built the engine." in section(text, "Contributions", "Notes")
    cite = section(text, "Cite", "Appendix: the cells, measured")
    assert "author = {Ada Lovelace and Charles Babbage}" in cite and "year = {2027}" in cite
    assert "url = {https://example.org/handwriting/}" in cite and "updated 2027-04-02" in cite
    assert "@article{carter2016experiments," in cite and "doi = {10.23915/distill.00004}" in cite
    again = re.sub(r" ([,;.])", r"\1", build_tiny(tmp_path_factory, tiny_artefact, str(tiny_lines), **options))
    assert again == text, "the dates are the settings', never the clock's"


@pytest.mark.parametrize("change, message", [
    ({"published": "1 March 2027"}, "published is '1 March 2027'; give a date as YYYY-MM-DD"),
    ({"updated": "2027-02-01"}, "updated (2027-02-01) is before published (2027-03-01)"),
    ({"authors": []}, "authors must be a list of at least one"),
    ({"original": None}, "original must be an object"),
])
def test_a_bad_edition_is_one_line(tmp_path, tiny_artefact, tiny_lines, capsys, change, message):
    (tmp_path / "edition.json").write_text(json.dumps({**EDITION, **change}))
    code = build.main(["--weights", str(tiny_artefact), "--data", str(tiny_lines), "--writer", "none",
                       "--edition", str(tmp_path / "edition.json"), "--out", str(tmp_path / "site"), "--cache", ""])
    error = capsys.readouterr().err
    assert code == 2 and error == f"error: --edition edition.json: {message}" + error.split(message, 1)[1]
    assert error.count("\n") == 1 and not (tmp_path / "site").exists()
