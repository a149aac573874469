"""model/read.py: a written line (JSON or model.write's SVG) read back by the recogniser."""
import subprocess
import sys

import numpy as np
import pytest

from model.corpus import write
from model.data import write_json_line
from model.read import main, rows, svg_line
from model.write import stack, to_svg


@pytest.fixture(scope="module")
def written():
    """Two rows as a person (here the synthetic corpus) writes them, and the two stacked."""
    first, second = write("Hello world", "scripts", seed=1), write("again today", "futural", seed=2)
    return first, second, stack([first, second], "Hello world again today")


def test_help_answers_before_tensorflow_is_imported():
    script = ("import sys\nfrom model.read import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
              "print('tensorflow' in sys.modules)")
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert "usage: python -m model.read" in shown and shown.strip().endswith("False")


def test_an_svg_gives_back_the_strokes_it_was_drawn_from(tmp_path, written):
    first, _, _ = written
    (tmp_path / "line.svg").write_text(to_svg(first))
    line = svg_line(tmp_path / "line.svg")
    np.testing.assert_array_equal(line.points[:, 2], first.points[:, 2])  # the same strokes
    np.testing.assert_allclose(np.diff(line.absolute(), axis=0), np.diff(first.absolute(), axis=0), atol=0.11)


def test_rows_are_cut_where_the_pen_goes_back_left_and_down(written):
    first, second, stacked = written
    assert len(rows(first)) == 1 and len(rows(second)) == 1  # dots, crosses and descenders stay
    cut = rows(stacked)
    assert [len(row.points) for row in cut] == [len(first.points), len(second.points)]
    np.testing.assert_allclose(cut[1].absolute() - cut[1].absolute()[0], second.absolute() - second.absolute()[0])


def test_json_and_svg_read_alike_and_rows_join_with_spaces(tmp_path, written, capsys):
    first, _, stacked = written
    folder = tmp_path / "with space"
    folder.mkdir()
    write_json_line(first, folder / "one.json")
    (folder / "one.svg").write_text(to_svg(first))
    (folder / "two.svg").write_text(to_svg(stacked))
    read = []
    for name in ("one.json", "one.svg", "two.svg"):
        assert main([str(folder / name)]) == 0
        read.append(capsys.readouterr().out.strip())
    assert read[0] == read[1] == "Hello world"
    assert read[2] == "Hello world again today"


@pytest.mark.parametrize("name, content, problem", [
    ("missing.json", None, "no such file"),
    ("notes.txt", "hello", "not a .json or .svg file"),
    ("cut.svg", '<svg xmlns="http://www.w3.org/2000/svg"><g>', "not an SVG"),
    ("empty.svg", '<svg xmlns="http://www.w3.org/2000/svg"></svg>', "no <polyline> strokes"),
    ("odd.svg", '<svg xmlns="http://www.w3.org/2000/svg"><polyline points="1,2 3"/></svg>', "polyline 1"),
    ("words.svg", '<svg xmlns="http://www.w3.org/2000/svg"><polyline points="a,b c,d"/></svg>', "not numbers"),
    ("bad line.json", "[[1, 2", "invalid JSON"),
])
def test_bad_files_fail_in_one_line(tmp_path, capsys, name, content, problem):
    if content is not None:
        (tmp_path / name).write_text(content)
    assert main([str(tmp_path / name)]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("error: ") and problem in error[0], error
