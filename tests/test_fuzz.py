"""Generated bad input (Hypothesis): malformed line files (JSON, IAM-OnDB XML, tar archives),
_config.json beside lines, spoiled model folders and wild command-line values for every
command. Every outcome is a success or one line (`error: ...`, exit 2): never a traceback,
never a half-written output. tests/test_bad_inputs.py holds the cases found by hand.

Bounded and repeatable: each property has its max_examples and draws the same cases every
run (derandomize, no example database), with no deadline: nothing depends on timing. Most
cases call the functions or main(argv) in-process; a few run real processes. The module ends
by printing how many cases ran (about 2,100) at the end of the session.
"""
import collections
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import build
from generator.figures import lines_kind
from model import data, evaluate, export, train, weights, write
from model.base import UserError

REPO = Path(__file__).resolve().parent.parent
CASES: collections.Counter = collections.Counter()


def fuzz(examples: int):
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


def summary() -> str:
    """The session's last line (conftest's pytest_terminal_summary prints it)."""
    return (f"fuzz: {sum(CASES.values())} generated cases ran ("
            + ", ".join(f"{name} {count}" for name, count in sorted(CASES.items())) + ")")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def fresh(workdir: Path) -> Path:
    """A new, empty folder per example."""
    return Path(tempfile.mkdtemp(dir=workdir))


def outcome(kind: str, call):
    """call()'s result, or None when it raised a one-line UserError; anything else fails."""
    CASES[kind] += 1
    try:
        return call()
    except UserError as error:
        assert str(error) and "\n" not in str(error), repr(str(error))
        return None


def command(kind: str, main, argv: list[str], capsys) -> int:
    """main(argv)'s exit status, 0 or 2; on 2 stderr is exactly one `error: ...` line."""
    CASES[kind] += 1
    try:
        status = main(argv)
    except SystemExit as exit:
        status = exit.code
    err = capsys.readouterr().err
    assert status in (0, 2), (argv, status, err[-2000:])
    if status == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (argv, err[-2000:])
    return status


# --- generated files -------------------------------------------------------------------------------

wild = st.one_of(st.integers(-2**70, 2**70), st.integers(10**300, 10**320), st.booleans(), st.none(),
                 st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=3), st.just([]))
json_values = st.recursive(wild, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=10)
rows = st.lists(st.tuples(st.integers(-500, 500), st.integers(-500, 500), st.sampled_from([0, 1])).map(list),
                max_size=12)


@st.composite
def json_line_bytes(draw) -> bytes:
    kind = draw(st.sampled_from(["bytes", "value", "rows", "one value spoiled", "cut", "special"]))
    if kind == "bytes":
        return draw(st.binary(max_size=120))
    if kind == "value":
        return json.dumps(draw(json_values)).encode()
    table = draw(rows)
    if kind == "rows":
        return json.dumps(table).encode()
    if kind == "one value spoiled" and table:
        row = draw(st.integers(0, len(table) - 1))
        table[row] = list(table[row])
        table[row][draw(st.integers(0, 2))] = draw(json_values)
        if draw(st.booleans()):
            table[row] = table[row][:draw(st.integers(0, 4))]
        return json.dumps(table).encode()
    if kind == "cut":
        text = json.dumps(table).encode()
        return text[:draw(st.integers(0, len(text)))]
    return draw(st.sampled_from([b"[" * 3000 + b"]" * 3000, b"[[" + b"9" * 5000 + b",0,0],[1,1,1]]",
                                 b"\xef\xbb\xbf[[0,0,0],[1,1,1]]", "[[0,0,0],[1,1,1]]".encode("utf-16"),
                                 b"[[0,0,0],[1e999,1,1]]", b"[[0,0,0],[1,1,1]] x", b"[[0,0,0],[1,1,true]]"]))


xml_numbers = st.one_of(st.integers(-10**6, 10**6).map(str), st.floats(allow_nan=True, allow_infinity=True).map(repr),
                        st.sampled_from(["", "1e400", "-0", "0x1f", " 5 ", "NaN"]), st.text(max_size=4))
points = st.lists(st.dictionaries(st.sampled_from(["x", "y", "time"]), xml_numbers, max_size=3), max_size=5)


@st.composite
def iam_xml_bytes(draw) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=200))
    root = draw(st.sampled_from(["WhiteboardCaptureSession", "WhiteboardCaptureSession", "Session"]))
    strokes = "".join("<Stroke>" + "".join(f"<Point {' '.join(f'{k}={quoteattr(v)}' for k, v in point.items())}/>"
                                           for point in stroke) + "</Stroke>"
                      for stroke in draw(st.lists(points, max_size=4)))
    text = draw(st.one_of(st.none(), st.text(max_size=8)))
    transcription = f"<Transcription><TextLine text={quoteattr(text)}/></Transcription>" if text is not None else ""
    stray = draw(st.sampled_from(["", "<Point x='1' y='2'/>", "<Stroke/>", escape("<&>")]))
    xml = f"<?xml version='1.0'?><{root}>{transcription}<StrokeSet>{stray}{strokes}</StrokeSet></{root}>"
    encoded = xml.encode("utf-8", "surrogatepass")
    return encoded[:draw(st.integers(0, len(encoded)))] if draw(st.booleans()) else encoded


def valid_line(path: Path) -> None:
    (line,) = data.load(path)
    assert line.points.dtype == np.float32 and line.points.ndim == 2 and line.points.shape[1] == 3
    assert len(line.points) >= 1 and np.isfinite(line.points).all() and np.isfinite(line.start).all()


@fuzz(600)
@given(content=json_line_bytes(), text=st.one_of(st.none(), st.binary(max_size=12)))
def test_json_line_files(workdir, content, text):
    path = workdir / "line.json"
    path.write_bytes(content)
    path.with_suffix(".txt").unlink(missing_ok=True)
    if text is not None:
        path.with_suffix(".txt").write_bytes(text)
    outcome("json lines", lambda: valid_line(path))


@fuzz(300)
@given(content=iam_xml_bytes())
def test_iam_xml_files(workdir, content):
    path = workdir / "a01-000u-01.xml"
    path.write_bytes(content)
    outcome("iam xml", lambda: valid_line(path))


members = st.lists(st.tuples(st.sampled_from(["a.json", "b.xml", "d/e.json", "../up.json", "_skip.json",
                                              ".hidden.xml", "f.txt", "a01-000u-01.xml", "link.json"]),
                             st.one_of(json_line_bytes(), iam_xml_bytes())), max_size=4)


@fuzz(150)
@given(files=members, compression=st.sampled_from(["", "gz"]), cut=st.one_of(st.none(), st.integers(0, 4000)))
def test_tar_archives(workdir, files, compression, cut):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=f"w:{compression}") as archive:
        for name, content in files:
            member = tarfile.TarInfo(name)
            if name == "link.json":
                member.type, member.linkname = tarfile.SYMTYPE, "/etc/passwd"
                archive.addfile(member)
            else:
                member.size = len(content)
                archive.addfile(member, io.BytesIO(content))
    path = workdir / ("lines.tar.gz" if compression else "lines.tar")
    path.write_bytes(buffer.getvalue()[:cut])
    lines = outcome("tar archives", lambda: data.load(path))
    assert lines is None or all(np.isfinite(line.points).all() for line in lines)


@fuzz(120)
@given(config=st.one_of(st.binary(max_size=60), json_values.map(lambda value: json.dumps(value).encode()),
                        st.fixed_dictionaries({"stage": st.one_of(st.sampled_from(["synth", "convert"]), wild),
                                               "source": st.one_of(st.sampled_from(["0.json", "distill", "x.xml"]),
                                                                   wild)}).map(lambda v: json.dumps(v).encode())))
def test_config_beside_lines(workdir, tiny_lines, config):
    folder = fresh(workdir)
    shutil.copy(tiny_lines / "0.json", folder / "0.json")
    (folder / data.CONFIG_NAME).write_bytes(config.replace(b'"0.json"', json.dumps(str(folder / "0.json")).encode()))
    assert outcome("_config.json", lambda: lines_kind(data.load(folder))) in (None, "human", "synthetic", "")


# --- model folders ---------------------------------------------------------------------------------

settings_values = st.one_of(wild, st.integers(-3, 3000), st.text(max_size=6), st.lists(wild, max_size=2),
                            st.dictionaries(st.text(max_size=3), wild, max_size=2))


@st.composite
def spoilings(draw, names: list[str]):
    name = draw(st.sampled_from(names))
    how = draw(st.sampled_from(["remove", "cut", "bytes", "value", "set", "set", "set"]))
    return name, how, draw(st.integers(0, 10**6)), draw(settings_values), draw(st.binary(max_size=40))


def spoil(folder: Path, name: str, how: str, number: int, value, noise: bytes) -> None:
    path = folder / name
    content = path.read_bytes()
    if how == "remove":
        path.unlink()
    elif how == "cut":
        path.write_bytes(content[:number % max(len(content), 1)])
    elif how == "bytes":
        path.write_bytes(noise)
    elif how == "value" or name.endswith(".h5"):
        path.write_text(json.dumps(value))
    else:
        path.write_text(json.dumps(replaced(json.loads(content), number + 1, value)))


def replaced(record, number: int, value):
    """record with one item, at a depth `number` chooses (the whole record when it is 0 mod 3), set to value."""
    if not isinstance(record, (dict, list)) or not record or number % 3 == 0:
        return value
    keys = sorted(record) if isinstance(record, dict) else list(range(len(record)))
    key = keys[number % len(keys)]
    record[key] = replaced(record[key], number // 3, value)
    return record


def check_spoiled(workdir: Path, pristine: Path, spoiling) -> None:
    folder = fresh(workdir) / "model"
    shutil.copytree(pristine, folder)
    spoil(folder, *spoiling)
    artefact = outcome("model folders", lambda: weights.pretrained(str(folder)))
    if artefact is not None:
        assert artefact.config.cells >= 1 and isinstance(artefact.about, dict)
        assert artefact.alphabet is None or artefact.alphabet.size == artefact.config.alphabet_size


@fuzz(80)
@given(spoiling=spoilings(["config.json", "config.json", "weights.h5", "about.json", "metrics.json", "train.json"]))
def test_handwriting_model_folders(workdir, tiny_artefact, spoiling):
    check_spoiled(workdir, tiny_artefact, spoiling)


@fuzz(60)
@given(spoiling=spoilings(["config.json", "config.json", "weights.h5", "about.json", "alphabet.json"]))
def test_text_model_folders(workdir, tiny_writer_artefact, spoiling):
    check_spoiled(workdir, tiny_writer_artefact, spoiling)


# --- command-line values, for every command ---------------------------------------------------------

numbers = st.one_of(st.sampled_from(["nan", "NaN", "inf", "-inf", "-1", "0", "1", "2", "1e309", "-0", "0.5",
                                     str(2**32), str(2**31), str(2**31 - 1), "1.5", "abc", "", " ", "0x10",
                                     "1_000", "٣", "9" * 5000]),
                    st.integers(-2**70, 2**70).map(str), st.floats(allow_nan=True, allow_infinity=True).map(repr),
                    st.text(max_size=6))


def options(names: list[str]):
    """Some of the options, each =VALUE (so a value starting with '-' is still its value)."""
    return st.lists(st.tuples(st.sampled_from(names), numbers), max_size=3).map(
        lambda chosen: [f"--{name}={value}" for name, value in chosen])


@fuzz(150)
@given(how=st.sampled_from(["synth", "stats", "convert"]), values=options(["limit"]),
       lines=st.sampled_from(["0", "-1", "1", "2", "nan", "abc", "2.5", "", "1e3"]), seed=numbers)
def test_data_commands(workdir, tiny_lines, capsys, how, values, lines, seed):
    out = fresh(workdir) / "out"
    if how == "synth":
        argv = ["synth", f"--lines={lines}", f"--seed={seed}", "--out", str(out)]
    else:
        argv = [how, str(tiny_lines), *values, *(["--out", str(out)] if how == "convert" else [])]
    status = command("model.data", data.main, argv, capsys)
    if how != "stats":
        assert out.is_dir() == (status == 0), "a failed command leaves no output"


@fuzz(120)
@given(values=options(["epochs", "batch-size", "seq-len", "lr", "clip", "val-fraction", "seed", "lines", "layers",
                       "cells", "mixtures", "window-mixtures", "patience", "threads-per-op", "lr-decay",
                       "strategy"]))
def test_train_command(workdir, capsys, values):
    argv = ["--data", str(workdir / "no such lines"), "--out", str(fresh(workdir) / "run"), *values]
    assert command("model.train", train.main, argv, capsys) == 2


@fuzz(120)
@given(values=options(["batch-lines", "write", "bias", "data"]))
def test_evaluate_command(workdir, capsys, values):
    argv = ["--weights", str(workdir / "no such model"), *values]
    assert command("model.evaluate", evaluate.main, argv, capsys) == 2


@fuzz(60)
@given(values=options(["quantize", "weights"]))
def test_export_command(workdir, capsys, values):
    out = fresh(workdir) / "export"
    argv = ["--weights", str(workdir / "no such model"), "--out", str(out), *values]
    assert command("model.export", export.main, argv, capsys) == 2
    assert not out.exists()


@fuzz(150)
@given(values=options(["bias", "seed", "width", "prime", "prime-text"]),
       suffix=st.sampled_from([".svg", ".json", ".png", ""]), text=st.text(max_size=8))
def test_write_command(workdir, capsys, values, suffix, text):
    out = fresh(workdir) / f"x{suffix}"
    argv = ["--text", text, "--out", str(out), "--weights", str(workdir / "no such model"), *values]
    assert command("model.write", write.main, argv, capsys) == 2
    assert not out.exists()


@fuzz(8)
@given(text=st.text(max_size=6), bias=st.sampled_from(["0", "1", "10", "nan", "-1"]),
       width=st.sampled_from(["1", "3", "0"]), suffix=st.sampled_from([".svg", ".json"]))
def test_write_command_with_a_real_writer(workdir, tiny_writer_artefact, capsys, text, bias, width, suffix):
    out = fresh(workdir) / f"x{suffix}"
    argv = ["--text", text, "--out", str(out), "--weights", str(tiny_writer_artefact), f"--bias={bias}",
            f"--width={width}"]
    status = command("model.write (real)", write.main, argv, capsys)
    assert out.is_file() == (status == 0)


@fuzz(150)
@given(values=options(["seed", "port", "weights", "writer"]), serve=st.booleans())
def test_build_command(workdir, capsys, values, serve):
    out = fresh(workdir) / "site"
    argv = [*(["serve"] if serve else []), "--data", str(workdir / "no such lines"), "--out", str(out),
            "--cache", str(out.with_name("cache")), *values]
    assert command("build.py", build.main, argv, capsys) == 2
    assert not out.exists()


@fuzz(6)
@given(content=json_line_bytes())
def test_data_stats_in_a_real_process(workdir, content):
    path = fresh(workdir) / "line.json"
    path.write_bytes(content)
    CASES["real processes"] += 1
    done = subprocess.run([sys.executable, "-m", "model.data", "stats", str(path)], capture_output=True, text=True,
                          cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300)
    assert done.returncode in (0, 2) and "Traceback" not in done.stderr, done.stderr[-2000:]
    if done.returncode:
        assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("error: "), done.stderr
