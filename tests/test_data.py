"""Tests for model/data.py: every loader, both writers, clean-up, statistics and the CLI.

Real files throughout: JSON lines and IAM-OnDB lineStrokes XML written to tmp_path, tar
archives built there, and the original article's 145 lines (Carter et al., Distill 2016)
through the `distill` fixture, which skips when they are absent.
"""
import errno
import io
import itertools
import json
import os
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import pytest

from model import data, remote
from model.base import REPO_ROOT, DataError, Line
from model.corpus import JOINED_FONTS
from model.data import CleanConfig, load

# A small IAM-OnDB lineStrokes file as the database distributes them: ISO-8859-1, absolute
# coordinates, y downward; strokes of 3, 1 (a dot) and 2 points.
IAM_XML = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<WhiteboardCaptureSession>
  <WhiteboardDescription>
    <SensorLocation corner="top_left"/>
    <DiagonallyOppositeCoords x="6512" y="1376"/>
  </WhiteboardDescription>
  <StrokeSet>
    <Stroke colour="black" start_time="769.05" end_time="769.64">
      <Point x="1073" y="1058" time="769.05"/>
      <Point x="1076" y="1050" time="769.07"/>
      <Point x="1080" y="1041" time="769.08"/>
    </Stroke>
    <Stroke colour="black" start_time="770.00" end_time="770.00">
      <Point x="1100" y="1000" time="770.00"/>
    </Stroke>
    <Stroke colour="black" start_time="771.00" end_time="771.10">
      <Point x="1200" y="1060" time="771.00"/>
      <Point x="1210.5" y="1062" time="771.10"/>
    </Stroke>
  </StrokeSet>
</WhiteboardCaptureSession>
"""
IAM_POINTS = [[3, -8, 0], [4, -9, 1], [20, -41, 1], [100, 60, 0], [10.5, 2, 1]]


def one_line_error(excinfo, *fragments):
    message = str(excinfo.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def make_line(points, start=(10, 20), **fields):
    return Line(points=np.array(points, np.float32), start=start, **fields)


def tar_of(path, members, mode="w:gz"):
    with tarfile.open(path, mode) as archive:
        for name, payload in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
    return path


# --- loaders -----------------------------------------------------------------------------------


def test_json_line_file(tmp_path):
    path = tmp_path / "3.json"
    path.write_text("[[214, 511, 1], [3, -7, 0], [4.5, -3, 1], [-1, 8, 0]]")
    [line] = load(path)
    assert line.start == (214, 511) and line.meta == {"start_pen_up": 1}
    np.testing.assert_array_equal(line.points, [[3, -7, 0], [4.5, -3, 1], [-1, 8, 0]])
    assert line.points.dtype == np.float32 and line.source == str(path) and line.text == ""


def test_json_folder_natural_order_text_and_skipped_files(tmp_path):
    for number in (10, 2, 1):
        (tmp_path / f"{number}.json").write_text(f"[[0, 0, 0], [{number}, 0, 1]]")
    (tmp_path / "2.txt").write_text("two words")
    (tmp_path / "_config.json").write_text('{"not": "a line"}')
    (tmp_path / ".hidden.json").write_text("broken")
    lines = load(tmp_path)
    assert [line.points[0, 0] for line in lines] == [1, 2, 10]
    assert [line.text for line in lines] == ["", "two words", ""]
    assert [line.points[0, 0] for line in load(tmp_path, limit=2)] == [1, 2]


def test_a_data_folder_does_not_follow_links_out_of_itself(tmp_path):
    secret = tmp_path / "home" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("my password")
    (tmp_path / "elsewhere.json").write_text("[[0, 0, 0], [1, 0, 1]]")
    lines = tmp_path / "lines"
    (lines / "sub").mkdir(parents=True)
    (lines / "1.json").write_text("[[0, 0, 0], [1, 0, 1]]")
    (lines / "1.txt").symlink_to(secret)
    with pytest.raises(DataError) as caught:
        load(lines)
    one_line_error(caught, str(lines / "1.txt"), "links out of", "copy the file in")
    with pytest.raises(DataError, match="links out of"):
        load(lines / "1.json")  # the line alone: its text still may not come from elsewhere
    (lines / "1.txt").unlink()
    (lines / "sub" / "1.txt").write_text("inside")
    (lines / "1.txt").symlink_to(lines / "sub" / "1.txt")  # a link inside the folder is fine
    (lines / "2.json").symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(DataError, match=r"2\.json: links out of"):
        load(lines)
    (lines / "2.json").unlink()
    assert [line.text for line in load(lines)] == ["inside"]


def test_iam_xml_file_gives_offsets_and_pen_lifts(tmp_path):
    path = tmp_path / "a01-000u-01.xml"
    path.write_bytes(IAM_XML)
    [line] = load(path)
    assert line.start == (1073, 1058) and line.meta == {} and line.source == str(path)
    np.testing.assert_array_equal(line.points, IAM_POINTS)
    np.testing.assert_allclose(line.absolute()[-1], [1210.5, 1062])


def test_iam_folder_tree_and_archive_agree_and_are_sorted(tmp_path):
    members = {f"lineStrokes/a0{n}/a0{n}-000/a0{n}-000u-0{k}.xml": IAM_XML.replace(b'x="1073"', f'x="{n}{k}"'.encode())
               for n in (2, 1) for k in (2, 1)}
    members["lineStrokes/readme.txt"] = b"not a line"
    for name, payload in members.items():
        (tmp_path / "tree" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "tree" / name).write_bytes(payload)
    archive = tar_of(tmp_path / "lineStrokes-all.tar.gz", members)
    from_tree, from_archive = load(tmp_path / "tree"), load(archive)
    assert [line.start[0] for line in from_archive] == [11, 12, 21, 22]
    assert from_archive[0].source == f"{archive}:lineStrokes/a01/a01-000/a01-000u-01.xml"
    for tree_line, archive_line in zip(from_tree, from_archive, strict=True):
        np.testing.assert_array_equal(tree_line.points, archive_line.points)
        assert tree_line.start == archive_line.start
    assert [line.start[0] for line in load(archive, limit=3)] == [11, 12, 21]
    assert not list(tmp_path.glob("lineStrokes")), "the archive must not be unpacked to disk"


# IAM-OnDB's ascii file for form a01-000u: OCR and CSR sections, blank lines between.
ASCII_TXT = b"""OCR:

A MOVE to stop Mr. Gaitskell
from nominating any more

CSR:

A MOVE to stop Mr. Gaitskell

from nominating any more \xa3 Peers
"""
IAM_TEXTS = ["A MOVE to stop Mr. Gaitskell", "from nominating any more \xa3 Peers"]  # ISO-8859-1 pound sign


def iam_corpus(folder, forms=("a01-000u",), lines_per_form=2):
    """{relative path: bytes}: lineStrokes XML (written by write_iam_xml) and the ascii files."""
    members = {f"ascii/a01/a01-000/{form}.txt": ASCII_TXT for form in forms}
    for form in forms:
        for number in range(1, lines_per_form + 1):
            path = data.write_iam_xml(make_line(IAM_POINTS, start=(number, 0)), folder / "scratch.xml")
            members[f"lineStrokes/a01/a01-000/{form}-{number:02d}.xml"] = path.read_bytes()
    (folder / "scratch.xml").unlink()
    return members


def write_tree(folder, members):
    for name, payload in members.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(payload)
    return folder


def test_iam_lines_take_their_text_from_ascii_beside_them(tmp_path):
    members = iam_corpus(tmp_path)
    tree = write_tree(tmp_path / "tree", members)
    assert [line.text for line in load(tree / "lineStrokes")] == IAM_TEXTS
    assert [line.text for line in load(tree)] == IAM_TEXTS, "ascii/ inside the source folder"
    [second] = load(tree / "lineStrokes/a01/a01-000/a01-000u-02.xml")
    assert second.text == IAM_TEXTS[1], "a single file finds ascii/ in a folder above it"
    packed = tmp_path / "packed"
    packed.mkdir()
    strokes = tar_of(packed / "lineStrokes-all.tar.gz", {k: v for k, v in members.items() if k.endswith(".xml")})
    tar_of(packed / "ascii-all.tar.gz", {k: v for k, v in members.items() if k.endswith(".txt")})
    assert [line.text for line in load(strokes)] == IAM_TEXTS
    assert [line.text for line in load(strokes, limit=1)] == IAM_TEXTS[:1]
    assert not list(packed.glob("ascii")), "the archive must not be unpacked to disk"


def test_iam_lines_without_transcriptions_load_without_text(tmp_path):
    tree = write_tree(tmp_path, {k: v for k, v in iam_corpus(tmp_path).items() if k.endswith(".xml")})
    assert [line.text for line in load(tree / "lineStrokes")] == ["", ""]


@pytest.mark.parametrize("change, expected", [
    (lambda members: members.pop("ascii/a01/a01-000/a01-000u.txt"), "a01-000u-01.xml: no transcription"),
    (lambda members: members.update({"lineStrokes/a01/a01-000/a01-000u-03.xml":
                                     members["lineStrokes/a01/a01-000/a01-000u-01.xml"]}),
     "a01-000u-03.xml: line 3 of its form, but"),
    (lambda members: members.update({"ascii/a01/a01-000/a01-000u.txt": b"OCR:\nno CSR section\n"}),
     "a01-000u.txt: no line 'CSR:'"),
])
def test_missing_or_mismatched_transcriptions_are_one_line_errors(tmp_path, change, expected):
    members = iam_corpus(tmp_path, forms=("a01-000u", "a01-000x"))
    change(members)
    tree = write_tree(tmp_path / "tree", members)
    with pytest.raises(DataError) as excinfo:
        load(tree / "lineStrokes")
    one_line_error(excinfo, expected)
    strokes = tar_of(tmp_path / "lineStrokes-all.tar.gz", {k: v for k, v in members.items() if k.endswith(".xml")})
    tar_of(tmp_path / "ascii-all.tar.gz", {k: v for k, v in members.items() if k.endswith(".txt")})
    with pytest.raises(DataError) as excinfo:
        load(strokes)
    one_line_error(excinfo, expected)


def test_synthetic_lines_have_text_and_source():
    pytest.importorskip("model.corpus", reason="model/corpus.py (the synthetic corpus) has not landed")
    lines = load("synthetic:3")
    assert len(lines) == 3 and all(line.text and line.source for line in lines)
    assert len(load("synthetic", limit=2)) == 2
    np.testing.assert_array_equal(load("synthetic:1")[0].points, lines[0].points)
    short = load("synthetic:20:chars=2-5")  # words are drawn until the line has at least LOW characters
    assert np.mean([len(line.text) for line in short]) < np.mean([len(line.text) for line in load("synthetic:20")]) / 3
    reseeded = load("synthetic:3:chars=2-5:seed=1")
    assert reseeded[0].source == "synthetic:seed=1:0" and reseeded[0].text != short[0].text
    np.testing.assert_array_equal(load("synthetic:1:chars=2-5:seed=0")[0].points, short[0].points)


def test_synthetic_capitals_weight_draws_more_all_capital_words():
    def capitals_share(source):
        text = "".join(line.text for line in load(source))
        return sum(character.isupper() for character in text) / len(text)

    usual, more = capitals_share("synthetic:200:chars=20-40:seed=3"), capitals_share(
        "synthetic:200:chars=20-40:capitals=8:seed=3")
    assert 0.04 < usual < 0.09 and more > usual + 0.03


def test_synthetic_print_weight_draws_more_lines_in_the_hands_that_do_not_join():
    def unjoined_share(source):
        return np.mean([line.meta["writer"]["font"] not in JOINED_FONTS for line in load(source)])

    assert 0.4 < unjoined_share("synthetic:300:chars=3-6:seed=3") < 0.6
    assert 0.7 < unjoined_share("synthetic:300:chars=3-6:print=3:seed=3") < 0.85  # 9 of 12 draws
    same, weighted_once = load("synthetic:5:seed=3"), load("synthetic:5:print=1:seed=3")
    assert [line.text for line in weighted_once] == [line.text for line in same]
    np.testing.assert_array_equal(weighted_once[4].points, same[4].points)


def test_distill_source_matches_the_folder(distill):
    lines = load("distill")
    assert len(lines) == 145 and sum(len(line.points) for line in lines) == 93429
    assert lines[1].source == "distill:validation-data/1.json"
    folder = load(distill / "validation-data", limit=3)
    for mine, theirs in zip(lines, folder):
        np.testing.assert_array_equal(mine.points, theirs.points)


# --- writers and the round trips ---------------------------------------------------------------


def test_json_writer_round_trip_keeps_text_and_refuses_a_used_folder(tmp_path):
    lines = [make_line([[1, 2, 0], [0.1, -3, 1]], text="héllo"), make_line([[5, 5, 1]], start=(0.5, 0))]
    paths = data.write_json_lines(lines, tmp_path / "out")
    assert [path.name for path in paths] == ["0.json", "1.json"]
    assert paths[1].read_text() == "[[0.5, 0, 0], [5, 5, 1]]"
    back = load(tmp_path / "out")
    assert [line.text for line in back] == ["héllo", ""]
    for line, read in zip(lines, back):
        np.testing.assert_array_equal(line.points, read.points)
        assert line.start == read.start
    with pytest.raises(DataError) as excinfo:
        data.write_json_lines(lines, tmp_path / "out")
    one_line_error(excinfo, "out", "not empty")


def test_iam_writer_is_valid_lineStrokes_xml(tmp_path):
    line = make_line(IAM_POINTS, start=(1073, 1058), text='say "<&>"')
    path = data.write_iam_xml(line, tmp_path / "line.xml")
    root = ElementTree.parse(path).getroot()
    assert root.tag == "WhiteboardCaptureSession"
    strokes = root.findall("StrokeSet/Stroke")
    assert [len(stroke.findall("Point")) for stroke in strokes] == [3, 1, 2]
    times = [float(point.get("time")) for point in root.iter("Point")]
    assert all(later > earlier for earlier, later in itertools.pairwise(times))
    [read] = load(path)
    np.testing.assert_array_equal(read.points, line.points)
    assert read.start == line.start and read.text == line.text


def test_done_when_distill_lines_round_trip_through_iam_xml(distill, tmp_path):
    """The 145 shared lines, written as IAM XML and read back, give exactly the JSON points."""
    from_json = load(distill / "validation-data")
    assert len(from_json) == 145
    (tmp_path / "xml").mkdir()
    for index, line in enumerate(from_json):
        data.write_iam_xml(line, tmp_path / "xml" / f"{index}.xml")
    from_xml = load(tmp_path / "xml")
    for json_line, xml_line in zip(from_json, from_xml, strict=True):
        np.testing.assert_array_equal(json_line.points, xml_line.points)
        assert (json_line.start, json_line.meta) == (xml_line.start, xml_line.meta)
    # ...and written back as JSON they are byte for byte the article's files.
    for path in data.write_json_lines(from_xml, tmp_path / "json"):
        assert path.read_bytes() == (distill / remote.LINE_NAMES[int(path.stem)]).read_bytes()


# --- malformed input: one line naming the file and the place, nothing half-loaded ---------------

BAD_JSON = {
    "truncated": ("[[1, 2, 0], [3, 4", ":1:18: invalid JSON"),
    "invalid": ("[[1, 2, 0],, [3, 4, 0]]", ":1:12: invalid JSON"),
    "not an array": ('{"points": []}', "expected an array"),
    "empty": ("[]", "expected an array"),
    "start only": ("[[1, 2, 0]]", "at least one point"),
    "short row": ("[[1, 2, 0], [3, 4]]", "row 1: expected [dx, dy, pen_up]"),
    "string value": ('[[1, 2, 0], [3, "4", 0]]', 'row 1, dy: "4" is not a finite number'),
    "boolean": ("[[1, 2, 0], [true, 4, 0]]", "row 1, dx: True is not a finite number"),
    "NaN": ("[[1, 2, 0], [3, 4, 0], [NaN, 1, 0]]", "row 2, dx: nan is not a finite number"),
    "infinite": ("[[1, 2, 0], [3, -Infinity, 0]]", "row 1, dy: -inf is not a finite number"),
    "huge": ("[[1, 2, 0], [3, 1" + "0" * 400 + ", 0]]", "row 1, dy"),
    "pen flag": ("[[1, 2, 0], [3, 4, 2]]", "row 1, pen_up: 2 is neither 0 nor 1"),
    "not UTF-8": (b"[[1, 2, 0], [3, 4, 0]] \xff\xfe", "not UTF-8"),
}


@pytest.mark.parametrize("case", BAD_JSON)
def test_malformed_json_line(tmp_path, case):
    content, expected = BAD_JSON[case]
    path = tmp_path / "bad.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(DataError) as excinfo:
        load(path)
    one_line_error(excinfo, str(path), expected)


def replace_xml(old, new):
    assert old in IAM_XML
    return IAM_XML.replace(old, new, 1)


BAD_XML = {
    "truncated": (IAM_XML[:400], "invalid XML"),
    "invalid": (replace_xml(b"</Stroke>", b"</Strok>"), ":12:7: invalid XML (mismatched tag)"),
    "wrong root": (b"<html><body/></html>", ":1:1: root element is <html>"),
    "missing x": (replace_xml(b'x="1076" ', b""), ':10:7: Stroke 1, Point 2: attribute \'x\' is missing'),
    "non-numeric y": (replace_xml(b'y="1041"', b'y="ten"'), ':11:7: Stroke 1, Point 3: y="ten" is not a finite number'),
    "non-finite x": (replace_xml(b'x="1100"', b'x="inf"'), ':14:7: Stroke 2, Point 1: x="inf" is not a finite number'),
    "empty stroke": (replace_xml(b'<Point x="1100" y="1000" time="770.00"/>', b""), ":13:5: Stroke 2 has no Point"),
    "no strokes": (b"<WhiteboardCaptureSession><StrokeSet/></WhiteboardCaptureSession>", "0 Point elements"),
    "one point": (b'<WhiteboardCaptureSession><StrokeSet><Stroke><Point x="1" y="2"/></Stroke>'
                  b"</StrokeSet></WhiteboardCaptureSession>", "1 Point elements"),
}


@pytest.mark.parametrize("case", BAD_XML)
def test_malformed_iam_xml(tmp_path, case):
    content, expected = BAD_XML[case]
    path = tmp_path / "bad.xml"
    path.write_bytes(content)
    with pytest.raises(DataError) as excinfo:
        load(path)
    one_line_error(excinfo, str(path), expected)


def test_one_bad_file_fails_the_whole_folder(tmp_path):
    (tmp_path / "1.json").write_text("[[0, 0, 0], [1, 1, 1]]")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "2.xml").write_bytes(replace_xml(b'y="1050"', b'y=""'))
    with pytest.raises(DataError) as excinfo:
        load(tmp_path)
    one_line_error(excinfo, str(tmp_path / "sub" / "2.xml"), ":10:7: Stroke 1, Point 2")


def test_bad_member_of_an_archive_is_named(tmp_path):
    archive = tar_of(tmp_path / "lines.tar.gz", {"a/1.xml": IAM_XML, "a/2.xml": IAM_XML[:300]})
    with pytest.raises(DataError) as excinfo:
        load(archive)
    one_line_error(excinfo, f"{archive}:a/2.xml", "invalid XML")


def test_truncated_archives_are_unreadable_not_half_loaded(tmp_path):
    big = IAM_XML + b"<!--" + b"padding " * 2000 + b"-->"
    plain = tar_of(tmp_path / "lines.tar", {"1.xml": IAM_XML, "2.xml": big, "3.xml": IAM_XML}, mode="w")
    cut = tmp_path / "cut.tar"
    cut.write_bytes(plain.read_bytes()[:5000])
    with pytest.raises(DataError) as excinfo:
        load(cut)
    one_line_error(excinfo, str(cut), "unreadable archive", "2.xml")
    gz = tar_of(tmp_path / "lines.tar.gz", {"1.xml": IAM_XML, "2.xml": big})
    cut_gz = tmp_path / "cut.tar.gz"
    cut_gz.write_bytes(gz.read_bytes()[:-200])
    with pytest.raises(DataError) as excinfo:
        load(cut_gz)
    one_line_error(excinfo, str(cut_gz), "unreadable")


@pytest.mark.parametrize("source, expected", [
    ("nowhere/at/all.json", "no such file or folder: give a JSON line file or folder"),
    ("synthetic:zero", "N above 0"),
    ("synthetic:0", "N above 0"),
    ("synthetic:5:chars=9-3", "LOW <= HIGH"),
    ("synthetic:5:seed=x", "synthetic:N[:chars=LOW-HIGH][:capitals=W][:print=K][:seed=S]"),
    ("synthetic:5:seed=1:capitals=2", "in this order"),
    ("synthetic:5:seed=1:print=2", "in this order"),
    ("synthetic:5:capitals=x", "W a number"),
    ("synthetic:5:print=0", "K a whole number above 0"),
    ("synthetic:5:print=1.5", "K a whole number above 0"),
])
def test_unknown_sources(source, expected):
    with pytest.raises(DataError) as excinfo:
        load(source)
    one_line_error(excinfo, source, expected)


def test_unsupported_file_and_empty_folder(tmp_path):
    (tmp_path / "notes.csv").write_text("1,2,0\n")
    for source, expected in [(tmp_path / "notes.csv", "unsupported kind of file"),
                             (tmp_path, "no .json or .xml line files")]:
        with pytest.raises(DataError) as excinfo:
            load(source)
        one_line_error(excinfo, str(source), expected)


# --- clean-up and statistics ---------------------------------------------------------------------


def test_clean_removes_a_glitch_keeping_positions_and_clips():
    # A pen-down spike out and back at the third point, then a long pen-up move of 3000.
    points = [[10, 0, 0], [10, 0, 0], [900, 0, 0], [-890, 0, 1], [3000, 5, 0], [10, 0, 1]]
    line = make_line(points, text="x")
    [cleaned] = clean_with(line, max_step_raw=200, clip_raw=1000, min_points=1)
    np.testing.assert_array_equal(cleaned.points, [[10, 0, 0], [10, 0, 0], [10, 0, 1], [1000, 5, 0], [10, 0, 1]])
    assert cleaned.meta["clean"] == {"removed_points": 1, "clipped_values": 1, "max_step_raw": 200}
    assert cleaned.text == "x" and line.points.shape == (6, 3), "the input line is not changed"


def test_clean_passes_a_lift_back_and_drops_short_lines():
    line = make_line([[900, 0, 1], [5, 0, 0], [5, 0, 1]])
    [cleaned] = clean_with(line, max_step_raw=100, min_points=1)
    np.testing.assert_array_equal(cleaned.points, [[905, 0, 0], [5, 0, 1]])
    assert cleaned.meta["start_pen_up"] == 1, "the removed point's lift passes to the start"
    assert clean_with(line, max_step_raw=100, min_points=3) == []


def clean_with(line, **config):
    return data.clean([line], CleanConfig(**config))


def test_clean_threshold_from_the_corpus_leaves_the_article_lines_alone(distill):
    lines = load(distill / "validation-data")
    cleaned = data.clean(lines)
    assert len(cleaned) == 145
    assert {line.meta["clean"]["removed_points"] for line in cleaned} == {0}
    assert 400 < cleaned[0].meta["clean"]["max_step_raw"] < 700


def test_stats_of_a_small_corpus():
    lines = [make_line([[3, 4, 0], [0, 0, 1], [100, 0, 0], [6, 8, 1]], text="ab"),
             make_line([[5, 12, 1], [1, 0, 0]])]
    result = data.stats(lines)
    assert result == {"lines": 2, "points": 6, "strokes": 4, "mean_points_per_line": 3.0,
                      "min_points_per_line": 2, "max_points_per_line": 4,
                      "median_points_per_stroke": 1.5, "median_step_raw": 7.5, "p99_step_raw": 12.91,
                      "median_move_raw": 50.5, "lines_with_text": 1, "points_per_char": 2.0,
                      "unknown_characters": 0, "unknown_character_set": ""}
    assert "unknown_characters" not in data.stats(lines[1:]), "only lines with text are counted"


def test_cli_stats_counts_characters_outside_the_alphabet(tmp_path):
    write_tree(tmp_path, iam_corpus(tmp_path))
    done = run_cli("stats", tmp_path / "lineStrokes")
    assert done.returncode == 0, done.stderr
    described = json.loads(done.stdout)
    assert described["lines_with_text"] == 2
    assert (described["unknown_characters"], described["unknown_character_set"]) == (1, "\xa3")


def test_stats_of_the_article_lines(distill):
    result = data.stats(load("distill"))
    assert (result["lines"], result["points"]) == (145, 93429)
    assert (result["min_points_per_line"], result["max_points_per_line"]) == (124, 1524)
    assert 15 < result["median_step_raw"] < 20


# --- command line --------------------------------------------------------------------------------


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "model.data", *map(str, args)],
                          capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)


def test_cli_convert_archive_then_stats(tmp_path):
    archive = tar_of(tmp_path / "lineStrokes-all.tar.gz", {"a/1.xml": IAM_XML, "a/2.xml": IAM_XML})
    done = run_cli("convert", archive, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["1.json", "2.json", "_config.json"]
    config = json.loads((tmp_path / "out" / "_config.json").read_text())
    assert config["stage"] == "convert" and config["stats"]["points"] == 10
    np.testing.assert_array_equal(load(tmp_path / "out")[1].points, IAM_POINTS)
    described = run_cli("stats", tmp_path / "out")
    assert described.returncode == 0 and len(described.stdout.splitlines()) == 1
    assert json.loads(described.stdout)["strokes"] == 6


def test_convert_on_a_full_disk_leaves_no_partial_corpus(tmp_path, monkeypatch):
    real = data.write_json_line
    written = []

    def full_after_two(line, path):  # a full disk simulated (no root, no small tmpfs here)
        if len(written) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        written.append(path)
        return real(line, path)

    monkeypatch.setattr(data, "write_json_line", full_after_two)
    out = tmp_path / "my lines"
    assert data.main(["convert", "synthetic:4", "--out", str(out)]) == 2
    assert list(tmp_path.iterdir()) == []  # nothing half written, no hidden leftovers
    monkeypatch.setattr(data, "write_json_line", real)
    assert data.main(["convert", "synthetic:4", "--out", str(out)]) == 0  # the next convert is not refused
    assert len(load(out)) == 4


def test_convert_records_no_local_path(tmp_path):
    (tmp_path / "my source").mkdir()
    (tmp_path / "my source" / "1.json").write_text("[[0, 0, 0], [1, 0, 1]]")
    assert run_cli("convert", tmp_path / "my source", "--out", tmp_path / "out").returncode == 0
    config = (tmp_path / "out" / "_config.json").read_text()
    assert json.loads(config)["source"] == "my source" and str(tmp_path) not in config


def test_cli_convert_names_each_line_by_its_source(tmp_path):
    members = {k: v for k, v in iam_corpus(tmp_path).items() if k.startswith("ascii/")}
    members.update({f"lineStrokes/a01/a01-000/a01-000u-{number}.xml": IAM_XML for number in ("01", "02")})
    packed = tmp_path / "packed"
    packed.mkdir()
    strokes = tar_of(packed / "lineStrokes-all.tar.gz", {k: v for k, v in members.items() if k.endswith(".xml")})
    tar_of(packed / "ascii-all.tar.gz", {k: v for k, v in members.items() if k.endswith(".txt")})
    assert run_cli("convert", strokes, "--out", tmp_path / "iam").returncode == 0
    assert sorted(path.name for path in (tmp_path / "iam").iterdir()) == [
        "_config.json", "a01-000u-01.json", "a01-000u-01.txt", "a01-000u-02.json", "a01-000u-02.txt"]
    assert (tmp_path / "iam" / "a01-000u-02.txt").read_text(encoding="utf-8") == IAM_TEXTS[1]
    for number in (10, 2):
        (tmp_path / "json" / "sub").mkdir(parents=True, exist_ok=True)
        (tmp_path / "json" / "sub" / f"{number}.json").write_text(f"[[0, 0, 0], [{number}, 0, 1]]")
    assert run_cli("convert", tmp_path / "json", "--out", tmp_path / "json-out").returncode == 0
    assert sorted(path.name for path in (tmp_path / "json-out").iterdir()) == ["10.json", "2.json", "_config.json"]
    assert run_cli("convert", "synthetic:2", "--out", tmp_path / "synthetic").returncode == 0
    assert sorted(path.stem for path in (tmp_path / "synthetic").glob("*.json")) == [
        "_config", "synthetic-000000", "synthetic-000001"]


def test_iam_xml_and_its_converted_json_give_the_same_lines(tmp_path):
    """What the site shows from IAM XML it shows the same from the converted JSON: order (2
    before 10), names, points, starts (also between float32 values) and texts."""
    tree = write_tree(tmp_path / "tree", iam_corpus(tmp_path))
    odd = make_line([[0.1, 0.7, 0], [-3.3, 1e-3, 1], [250.25, 0, 1]], start=(1073.123456789, 1058.7), text="odd")
    (tree / "lineStrokes" / "0more").mkdir()
    for number in (10, 2):
        data.write_iam_xml(odd, tree / "lineStrokes" / "0more" / f"{number}.xml")
    done = run_cli("convert", tree / "lineStrokes", "--out", tmp_path / "json")
    assert done.returncode == 0, done.stderr
    from_xml, from_json = load(tree / "lineStrokes"), load(tmp_path / "json")
    assert [Path(line.source).stem for line in from_json] == ["2", "10", "a01-000u-01", "a01-000u-02"]
    for xml_line, json_line in zip(from_xml, from_json, strict=True):
        assert Path(xml_line.source).stem == Path(json_line.source).stem
        np.testing.assert_array_equal(xml_line.points, json_line.points)
        assert (xml_line.start, xml_line.text, xml_line.meta) == (json_line.start, json_line.text, json_line.meta)


def test_cli_convert_keeps_hostile_member_names_inside_out(tmp_path):
    """Member names that climb out of a folder, are absolute or clash become plain unique names
    inside --out, in the archive's order."""
    names = ["/abs/evil.xml", "../skipped.xml", "a/b.xml", "c/b.xml", "x\\..\\..\\odd name.xml", "C:\\Windows\\win.xml"]
    archive = tar_of(tmp_path / "hostile.tar", dict.fromkeys(names, IAM_XML), mode="w")
    out = tmp_path / "deep" / "out"
    done = run_cli("convert", archive, "--out", out)
    assert done.returncode == 0, done.stderr
    assert sorted(path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*") if path.is_file()) == [
        "deep/out/0-evil.json", "deep/out/1-win.json", "deep/out/2-b.json", "deep/out/3-b-2.json",
        "deep/out/4-odd_name.json", "deep/out/_config.json", "hostile.tar"]
    assert len(load(out)) == 5, "../skipped.xml is never loaded: the loader skips parts starting with a dot"
    lines = [make_line(IAM_POINTS, source=f"t.tar:{name}") for name in ["a/B.xml", "c/b.xml", "..", "_x.json"]]
    assert data.line_names(lines) == ["B", "b-2", "line", "x"], "B and b are one file on some file systems"


def test_cli_synth(tmp_path):
    pytest.importorskip("model.corpus", reason="model/corpus.py (the synthetic corpus) has not landed")
    done = run_cli("synth", "--lines", 2, "--seed", 5, "--out", tmp_path / "synth")
    assert done.returncode == 0, done.stderr
    lines = load(tmp_path / "synth")
    assert len(lines) == 2 and all(line.text for line in lines)
    assert json.loads((tmp_path / "synth" / "_config.json").read_text())["seed"] == 5


@pytest.mark.parametrize("make_args, expected", [
    (lambda tmp: ["stats", tmp / "missing"], "no such file or folder"),
    (lambda tmp: ["stats", bad_file(tmp)], "bad.json:1:12: invalid JSON"),
    (lambda tmp: ["convert", good_file(tmp), "--out", tmp], "is not empty"),
    (lambda tmp: ["stats", "synthetic:-1"], "not a synthetic source"),
])
def test_cli_errors_are_one_line_and_exit_2(tmp_path, make_args, expected):
    done = run_cli(*make_args(tmp_path))
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and expected in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_cli_distill_offline_without_its_files_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv(remote.OFFLINE_ENV, "1")
    monkeypatch.setenv("HANDWRITING_DISTILL", str(tmp_path / "missing"))
    done = run_cli("stats", "distill")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: validation-data/0.json: there is no local copy in")
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def bad_file(folder):
    (folder / "bad.json").write_text("[[1, 2, 0],, [3, 4, 0]]")
    return folder / "bad.json"


def good_file(folder):
    (folder / "good.json").write_text("[[1, 2, 0], [3, 4, 1]]")
    return folder / "good.json"
