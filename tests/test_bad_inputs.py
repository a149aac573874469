"""Every bad input issue 22 found by hand ends in one line and exit 2 (or, where it is no
mistake, in a site): each case by name. tests/test_fuzz.py generates thousands more.

The model folders are copies of conftest's tiny handwriting model (tiny_artefact) and tiny
text model (tiny_writer_artefact), each with one file spoiled as a careless hand or a cut
download would.
"""
import importlib
import json
import os
import shutil
import subprocess
import sys

import pytest

import build
from generator import render
from generator.figures import lines_kind
from model import data, evaluate, weights
from model.base import DataError, ModelError, UserError
from model.write import main as write_main

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def one_line(text: str) -> str:
    """The single `error: ...` line a command printed on stderr."""
    lines = text.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in text, text[-2000:]
    return lines[0]


def refused(call, *fragments, error=UserError) -> str:
    with pytest.raises(error) as raised:
        call()
    message = str(raised.value)
    assert "\n" not in message and all(fragment in message for fragment in fragments), message
    return message


def exits_2(main, argv, capsys) -> str:
    """main(argv) ends with exit status 2 (returned, or argparse's SystemExit) and one line."""
    try:
        status = main(argv)
    except SystemExit as exit:
        status = exit.code
    assert status == 2
    return one_line(capsys.readouterr().err)


def spoiled(folder, tmp_path, name: str, content: str | None):
    """A copy of the model folder with `name` rewritten (None: removed)."""
    copy = tmp_path / "model"
    shutil.copytree(folder, copy)
    if content is None:
        (copy / name).unlink()
    else:
        (copy / name).write_text(content)
    return copy


def python(*arguments, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *map(str, arguments)], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": REPO}, timeout=600, **kwargs)


# --- model.write: numbers; every command's arguments answered before TensorFlow --------------------


@pytest.mark.parametrize("bias", ["nan", "inf", "-inf", "-0.5", "10.5", "1e309", "abc"])
def test_write_refuses_a_bias_outside_0_to_10(bias, tmp_path, capsys):
    line = exits_2(write_main, ["--text", "hi", "--out", str(tmp_path / "x.svg"), "--bias", bias], capsys)
    assert "--bias" in line and not (tmp_path / "x.svg").exists()


@pytest.mark.parametrize("width", ["0", "-3", "1.5"])
def test_write_refuses_a_width_below_one(width, tmp_path, capsys):
    assert "--width" in exits_2(write_main, ["--text", "hi", "--out", str(tmp_path / "x.svg"), "--width", width],
                                capsys)


# Each command answers --help and an argument that is wrong by itself (a range, a choice, a missing
# or conflicting option) at once, before the seconds TensorFlow takes to import.
@pytest.mark.parametrize("command, arguments, status", [
    ("model.write", ["--help"], 0),
    ("model.write", ["--text", "hi", "--out", "x.svg", "--bias", "nan"], 2),
    ("model.write", ["--text", "hi", "--out", "x.svg", "--width", "0"], 2),
    ("model.write", ["--text", "hi"], 2),
    ("model.train", ["--help"], 0),
    ("model.train", ["--out", "runs/x", "--epochs", "0"], 2),
    ("model.train", ["--out", "runs/x", "--val-fraction", "1"], 2),
    ("model.train", ["--out", "runs/x", "--strategy", "everywhere"], 2),
    ("model.train", ["--out", "runs/x", "--credit", "me"], 2),
    ("model.train", ["--data", "distill"], 2),
    ("model.evaluate", ["--help"], 0),
    ("model.evaluate", ["--bias", "10.5"], 2),
    ("model.evaluate", ["--batch-lines", "0"], 2),
    ("model.evaluate", ["--write", "-1"], 2),
    ("model.evaluate", ["--writings", "0"], 2),
    ("model.evaluate", ["--writings", str(2**31 + 1)], 2),  # its last seed, 2**31, past int32
    ("model.export", ["--help"], 0),
    ("model.export", ["--out", "x", "--quantize", "int4"], 2),
    ("model.export", ["--weights", "default"], 2),
])
def test_commands_answer_help_and_bad_arguments_before_importing_tensorflow(command, arguments, status):
    done = python("-c", "import runpy, sys\n"
                  f"sys.argv = [{command!r}, *sys.argv[1:]]\n"
                  f"try:\n    runpy.run_module({command!r}, run_name='__main__')\n"
                  "except SystemExit as exit:\n    print(exit.code, 'tensorflow' in sys.modules)\n", *arguments)
    assert done.stdout.splitlines()[-1] == f"{status} False", done.stdout + done.stderr
    if status:
        one_line(done.stderr)
    else:
        assert f"usage: python -m {command}" in done.stdout


# --- build.py: seeds -------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", ["-1", str(2**32), str(2**31), "1.5", "nan"])
def test_build_refuses_a_seed_outside_0_to_2_31(seed, tmp_path, capsys):
    assert "--seed" in exits_2(build.main, ["--seed", seed, "--out", str(tmp_path / "site")], capsys)
    assert not (tmp_path / "site").exists()


def test_build_seed_minus_one_from_a_real_process(tmp_path):
    done = python("build.py", "--seed", "-1", "--out", tmp_path / "site")
    assert done.returncode == 2 and "--seed" in one_line(done.stderr)


# --- a file where a command writes a folder --------------------------------------------------------
# Each command that fills a new folder once replaced a file of that name with it (model.data) or
# ended in an OSError's number (model.recognizer, model.train); the file is someone's, and kept.

TINY_RUN = ["--data", "synthetic:6", "--cells", "16", "--mixtures", "3", "--seq-len", "50", "--epochs", "1"]


@pytest.mark.parametrize("command, arguments", [
    ("model.data", ["synth", "--lines", "3", "--out", "{file}"]),
    ("model.recognizer", ["train", "--data", "synthetic:6", "--epochs", "1", "--out", "{file}"]),
    ("model.train", [*TINY_RUN, "--out", "{file}"]),
    ("model.train", [*TINY_RUN, "--out", "{tmp}/run", "--publish", "{file}"]),
    ("build", ["--out", "{file}"]),
])
def test_a_file_where_a_folder_is_to_be_written_is_kept_and_named(command, arguments, tmp_path, capsys):
    file = tmp_path / "notes.txt"
    file.write_text("years of work")
    argv = [argument.format(file=file, tmp=tmp_path) for argument in arguments]
    main = build.main if command == "build" else importlib.import_module(command).main
    line = exits_2(main, argv, capsys)
    assert f"{file}: is a file" in line and file.read_text() == "years of work"
    assert not (tmp_path / "run").exists()  # --publish is checked before the training, not after it


# --- JSON lines ------------------------------------------------------------------------------------


def test_a_json_line_nested_100000_deep_is_one_line(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    refused(lambda: data.load(path), str(path), "nested too deep", error=DataError)


def test_a_number_5000_digits_long_is_one_line(tmp_path):
    path = tmp_path / "long.json"
    path.write_text(f"[[{'7' * 5000}, 0, 0], [1, 1, 1]]")
    refused(lambda: data.load(path), str(path), "digits", error=DataError)
    done = python("-m", "model.data", "stats", path)
    assert done.returncode == 2 and str(path) in one_line(done.stderr)


def test_a_line_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    rows = [[0, 0, 0]] + [[3, 4, 0]] * 90
    (tmp_path / "small.json").write_text(json.dumps(rows))
    monkeypatch.setattr(data, "MAX_LINE_BYTES", (tmp_path / "small.json").stat().st_size)  # 1,001 bytes
    assert len(data.load(tmp_path / "small.json")[0].points) == 90
    (tmp_path / "big.json").write_text(json.dumps([*rows, [3, 4, 1]]))
    refused(lambda: data.load(tmp_path / "big.json"), "big.json", "bytes, over the 1,001", error=DataError)
    archive = tmp_path / "lines.tar"
    shutil.make_archive(str(archive.with_suffix("")), "tar", tmp_path, "big.json")
    refused(lambda: data.load(archive), "lines.tar:big.json", "over the 1,001", error=DataError)


def build_with_lines(tmp_path, tiny_artefact, rows) -> dict:
    folder = tmp_path / "lines"
    folder.mkdir()
    (folder / "0.json").write_text(json.dumps(rows))
    config = build.BuildConfig(weights=str(tiny_artefact), writer="none", data=str(folder),
                               out=str(tmp_path / "site"), cache="")
    return build.build(config, say=lambda message: None)


def test_a_line_of_only_zero_offsets_builds(tmp_path, tiny_artefact):
    """The pen never moves: position says nothing, so every correlation with it is 0, not NaN
    (which the page's JSON refused only after the whole figure stage)."""
    summary = build_with_lines(tmp_path, tiny_artefact, [[100, 100, 0]] + [[0, 0, 0]] * 300 + [[0, 0, 1]])
    assert summary["files"] > 10 and (tmp_path / "site" / "index.html").is_file()


def test_a_two_point_line_builds_with_the_cells_unsorted(tmp_path, tiny_artefact):
    """No window of points for the t-SNE to compare: the sorted heatmap keeps the cells' own order."""
    build_with_lines(tmp_path, tiny_artefact, [[0, 0, 0], [5, 5, 0], [5, 0, 1]])
    page = (tmp_path / "site" / "index.html").read_text()
    sorted_cells = json.loads(page.split('id="figure-data-cells-sorted">')[1].split("</script>")[0])
    assert sorted_cells["order"] == list(range(16)), "the tiny model's 16 cells as numbered"


# --- _config.json beside lines --------------------------------------------------------------------


@pytest.mark.parametrize("content, expected", [
    ('{"stage": "synth", "li', "not readable JSON"),
    ('["synth"]', "not an object"),
    ('{"stage": 5}', "stage is 5, not a string"),
])
def test_a_damaged_config_beside_lines_is_one_line(content, expected, tmp_path, tiny_lines):
    shutil.copytree(tiny_lines, tmp_path / "lines")
    (tmp_path / "lines" / data.CONFIG_NAME).write_text(content)
    refused(lambda: lines_kind(data.load(tmp_path / "lines")), data.CONFIG_NAME, expected, error=DataError)


def test_a_config_naming_its_own_folder_is_read_once(tmp_path, tiny_lines):
    shutil.copytree(tiny_lines, tmp_path / "lines")
    own = {"stage": "convert", "source": str(tmp_path / "lines" / "0.json")}
    (tmp_path / "lines" / data.CONFIG_NAME).write_text(json.dumps(own))
    assert lines_kind(data.load(tmp_path / "lines")) == ""


# --- model folders ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["about.json", "metrics.json", "train.json", "config.json"])
def test_a_truncated_record_of_a_model_is_one_line(name, tmp_path, tiny_artefact):
    text = (tiny_artefact / name).read_text()
    folder = spoiled(tiny_artefact, tmp_path, name, text[:len(text) // 2])
    refused(lambda: weights.pretrained(str(folder)), str(folder / name), "not readable JSON", error=ModelError)


def test_a_truncated_weights_file_is_named_damaged_not_misfitting(tmp_path, tiny_artefact):
    weights_file = (tiny_artefact / "weights.h5").read_bytes()
    folder = spoiled(tiny_artefact, tmp_path, "weights.h5", None)
    (folder / "weights.h5").write_bytes(weights_file[:len(weights_file) // 2])
    message = refused(lambda: weights.pretrained(str(folder)), str(folder / "weights.h5"), "damaged",
                      error=ModelError)
    assert "config" not in message  # the config is fine: the file is cut short


@pytest.mark.parametrize("cells, expected", [(0, "outside 1..2048"), (-1, "outside 1..2048"),
                                             ("abc", 'cells is "abc", not a whole number'),
                                             (16.0, "not a whole number"), (True, "not a whole number")])
def test_cells_out_of_range_or_of_the_wrong_type_is_one_line(cells, expected, tmp_path, tiny_artefact):
    config = {**json.loads((tiny_artefact / "config.json").read_text()), "cells": cells}
    folder = spoiled(tiny_artefact, tmp_path, "config.json", json.dumps(config))
    refused(lambda: weights.pretrained(str(folder)), "config.json", expected, error=ModelError)


@pytest.mark.parametrize("name, content, expected", [
    ("metrics.json", "[1, 2]", "not an object"),
    ("metrics.json", '{"epochs": [{"epoch": 1, "val_nll": "low"}]}', "epochs[0].val_nll"),
    ("metrics.json", '{"longest_text": 0}', "longest_text is 0, not 1 or more"),
    ("train.json", '{"data": 7, "val_fraction": 0.1, "seed": 0}', "data is 7, not a string"),
    ("about.json", '{"name": ["x"]}', "name"),
    ("about.json", '{"measured": {"held_out": {"nll_per_point": -4, "nll_xy": -4, "nll_eos": 0, "points": 9, '
                   '"lines": 1}, "hands": {"primes": 2, "bias": 1, "hands": ["a", "b"], "matrix": [[1, 0], [0, 1]], '
                   '"accuracy": "all"}}}', "measured.hands.accuracy is"),
])
def test_a_record_of_the_wrong_type_is_one_line(name, content, expected, tmp_path, tiny_artefact):
    folder = spoiled(tiny_artefact, tmp_path, name, content)
    refused(lambda: weights.pretrained(str(folder)), name, expected, error=ModelError)


def test_measured_figures_missing_a_field_are_one_line(tmp_path, tiny_writer_artefact):
    about = json.loads((tiny_writer_artefact / "about.json").read_text())
    del about["measured"]["held_out"]["nll_xy"]
    folder = spoiled(tiny_writer_artefact, tmp_path, "about.json", json.dumps(about))
    refused(lambda: build.load_writer(str(folder)), "about.json", "measured.held_out.nll_xy is missing",
            error=ModelError)


@pytest.mark.parametrize("chars", [" ab", " abhiz"])
def test_a_writer_whose_alphabet_does_not_fit_its_weights_is_refused(chars, tmp_path, tiny_writer_artefact):
    folder = spoiled(tiny_writer_artefact, tmp_path, "alphabet.json", json.dumps({"chars": chars}))
    refused(lambda: build.load_writer(str(folder)), "alphabet.json", "codes", "put back", error=ModelError)


def test_a_writer_without_its_alphabet_is_one_line(tmp_path, tiny_writer_artefact):
    folder = spoiled(tiny_writer_artefact, tmp_path, "alphabet.json", None)
    refused(lambda: weights.pretrained(str(folder)), "alphabet.json", error=ModelError)


def test_weights_given_a_text_model_is_one_line(tmp_path, tiny_writer_artefact, tiny_lines, capsys):
    line = exits_2(build.main, ["--weights", str(tiny_writer_artefact), "--data", str(tiny_lines),
                                "--writer", "none", "--out", str(tmp_path / "site"), "--cache", ""], capsys)
    assert "--weights" in line and "a text model" in line and not (tmp_path / "site").exists()


def test_writer_given_a_handwriting_model_is_one_line(tiny_artefact):
    refused(lambda: build.load_writer(str(tiny_artefact)), "--writer", "unconditional", error=ModelError)


# --- serve: a template syntax error ------------------------------------------------------------------


def test_a_template_syntax_error_under_serve_is_one_line(tmp_path, tiny_artefact, tiny_lines, monkeypatch, capsys):
    templates = tmp_path / "templates"
    shutil.copytree(render.TEMPLATES, templates)
    partial = templates / "partials" / "model-card.html.j2"
    partial.write_text(partial.read_text() + "\n{% if %}\n")
    monkeypatch.setattr(render, "TEMPLATES", templates)
    assert build.main(["serve", "--port", "0", "--weights", str(tiny_artefact), "--data", str(tiny_lines),
                       "--writer", "none", "--out", str(tmp_path / "site"), "--cache", ""]) == 2
    err = capsys.readouterr().err  # in-process, the figure stage's progress bars come first
    line = one_line(err.rstrip("\n").split("\n")[-1].split("\r")[-1])
    assert "Traceback" not in err
    assert f"{partial}:" in line and "TemplateSyntaxError" in line and not (tmp_path / "site").exists()


def test_a_name_a_template_does_not_know_is_one_line_naming_its_line(tmp_path, monkeypatch):
    (tmp_path / "article.html.j2").write_text("<p>\n{{ nowhere.to_be_found }}\n")
    monkeypatch.setattr(render, "TEMPLATES", tmp_path)
    refused(lambda: render.render_article([], {}, {}), "article.html.j2:2", "nowhere", error=render.TemplateError)



@pytest.mark.parametrize("clean, expected", [({"speed": 1}, "unknown settings ['speed']"),
                                             ({"step_percentile": 200.0}, "step_percentile from above 0 to 100"),
                                             ({"min_points": 0}, "min_points at least 1")])
def test_held_out_lines_of_a_hand_edited_clean_setting_are_one_line(clean, expected, tmp_path, tiny_artefact):
    train = {**json.loads((tiny_artefact / "train.json").read_text()), "clean": clean}
    folder = spoiled(tiny_artefact, tmp_path, "train.json", json.dumps(train))
    refused(lambda: evaluate.held_out_lines(str(folder)), expected, error=DataError)
