"""Handwriting lines (model.base.Line): every source that provides them, and writers.

A line is a sequence of pen points, each stored as the offset (dx, dy) from the previous
point in raw pen units plus a pen-lift flag that is 1 on the last point of a stroke
(Graves 2013, section 4.2). Loaders return points exactly as stored; `clean` is the
separate, explicit clean-up step used before training.

Sources (`load`): the original article's JSON line files (Carter, Ha, Johnson, Olah,
Distill 2016: row 0 the absolute start, then [dx, dy, pen_up] rows), IAM-OnDB lineStrokes
XML (Liwicki and Bunke 2005: absolute x, y per Point, read from files, folder trees or the
distributed tar.gz; texts from IAM's ascii transcriptions when they lie beside), the
synthetic cursive corpus (model/corpus.py) and the article's own 145 lines (model/remote.py).
Writers: `write_json_lines` (the article's format, text in NAME.txt beside NAME.json; `convert`
and `synth` name each line by its source, a01-000u-01.json, see `line_names`) and
`write_iam_xml`. A start point that is a stroke of its own (row 0 with pen_up 1, in 9 of the
article's lines) is kept as meta["start_pen_up"], so both formats round-trip exactly.

    python -m model.data synth --lines N --seed S --out DIR
    python -m model.data convert SRC --out DIR [--limit N]
    python -m model.data stats SRC [--limit N]
"""
from __future__ import annotations

import argparse
import json
import math
import re
import sys
import tarfile
import zlib
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from xml.parsers import expat
from xml.sax.saxutils import quoteattr

import numpy as np

from model import corpus, remote
from model.alphabet import Alphabet
from model.base import (
    ArgumentParser,
    DataError,
    Line,
    cause,
    not_new,
    ranged,
    replacing_folder,
    run_cli,
    seed_argument,
    shown_name,
)

# --- helpers ---------------------------------------------------------------------------------

# Folder and archive walks skip these: metadata (like the CLI's _config.json) and hidden files.
SKIPPED_PREFIXES = ("_", ".")
TEXT_SUFFIX = ".txt"  # a JSON line's text lives beside it: 7.json has 7.txt
CONFIG_NAME = "_config.json"
DEFAULT_SYNTHETIC_LINES = 2000
COLUMNS = ("dx", "dy", "pen_up")
FLOAT32_MAX = float(np.finfo(np.float32).max)
# The largest line file read (JSON or XML): 8 MiB, about half a million points, where IAM's longest
# line has under 2,000. json.loads takes about 16 times a line's size (a Python object per number).
MAX_LINE_BYTES = 8 * 2**20


def _natural_key(name: str) -> list:
    """Sort key putting 2.json before 10.json, so folders load in the order people number them."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name)]


def _progress(items, description: str, total: int | None = None):
    """A tqdm bar on an interactive terminal only, so piped stderr stays one clean line."""
    from tqdm import tqdm

    return tqdm(items, desc=description, total=total, unit="line", disable=None, leave=False)


def _brief(value) -> str:
    text = json.dumps(value) if isinstance(value, (list, dict, str)) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _finite_number(value) -> bool:
    # bool is an int to Python but never a coordinate; the bound is float32's, what a Line stores.
    if type(value) not in (int, float):
        return False
    try:
        return abs(float(value)) <= FLOAT32_MAX  # False for NaN and infinities
    except OverflowError:  # an integer too large for any float
        return False


def _float_or_nan(text: str | None) -> float:
    try:
        return math.nan if text is None else float(text)
    except ValueError:
        return math.nan


def _line_from_absolute(xy: np.ndarray, pen_up: np.ndarray, **fields) -> Line:
    """A Line from absolute positions (N, 2) and per-point pen lifts: the first point is the start."""
    points = np.column_stack([np.diff(xy, axis=0), pen_up[1:]]).astype(np.float32)
    meta = {"start_pen_up": 1} if pen_up[0] else {}
    return Line(points=points, start=(float(xy[0, 0]), float(xy[0, 1])), meta=meta, **fields)


def _absolute(line: Line) -> tuple[np.ndarray, np.ndarray]:
    """The start and every point as absolute positions (T + 1, 2) float64, with their pen lifts."""
    start = np.asarray(line.start, np.float64)
    xy = np.vstack([start, start + np.cumsum(line.points[:, :2], axis=0, dtype=np.float64)])
    pen_up = np.concatenate([[line.meta.get("start_pen_up", 0)], line.points[:, 2]])
    return xy, pen_up


def _check_size(size: int, where: str) -> None:
    """Refuses a line file over MAX_LINE_BYTES before it is read."""
    if size > MAX_LINE_BYTES:
        raise DataError(f"{where}: {size:,} bytes, over the {MAX_LINE_BYTES:,} a line file may have "
                        f"(some {MAX_LINE_BYTES // 16:,} points): split it into lines")


# --- JSON lines (the original article's format) --------------------------------------------

def _parse_json_line(data: bytes, where: str) -> Line:
    """Rows [dx, dy, pen_up]: row 0 the absolute start, every later row the offset from the last."""
    table = _checked_rows(data, where)
    meta = {"start_pen_up": 1} if table[0, 2] else {}
    return Line(points=table[1:].astype(np.float32), start=(float(table[0, 0]), float(table[0, 1])),
                meta=meta)


def _checked_rows(data: bytes, where: str) -> np.ndarray:
    """The rows as float64 (N, 3), each checked, the first bad one described."""
    try:
        rows = json.loads(data)
    except json.JSONDecodeError as error:
        raise DataError(f"{where}:{error.lineno}:{error.colno}: invalid JSON ({error.msg}): "
                        f"repair the file or leave it out") from None
    except UnicodeDecodeError as error:
        raise DataError(f"{where}: byte {error.start}: not UTF-8 text: is this a JSON line file?") from None
    except RecursionError:
        raise DataError(f"{where}: arrays nested too deep to read: expected rows [dx, dy, pen_up] "
                        f"inside one array") from None
    except ValueError as error:  # an integer of more digits than Python converts (4,300)
        raise DataError(f"{where}: {str(error).split(';')[0]}: give every row three numbers") from None
    if not isinstance(rows, list) or len(rows) < 2:
        raise DataError(f"{where}: expected an array of [dx, dy, pen_up] rows, the absolute start "
                        f"and at least one point, got {_brief(rows)}: write the line in that format")
    for index, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != 3:
            raise DataError(f"{where}: row {index}: expected [dx, dy, pen_up], got {_brief(row)}: "
                            f"give every row three numbers")
        for column, value in zip(COLUMNS, row):
            if not _finite_number(value):
                raise DataError(f"{where}: row {index}, {column}: {_brief(value)} is not a finite "
                                f"number: give every row three numbers")
        if row[2] not in (0, 1):
            raise DataError(f"{where}: row {index}, pen_up: {_brief(row[2])} is neither 0 nor 1: "
                            f"mark the last point of each stroke with 1, others with 0")
    return np.asarray(rows, np.float64)


def _json_number(value: float, precision: type = np.float32) -> int | float:
    # Integers as the original writes them; other values in the shortest form at the precision
    # they are read back in: points float32, the start float64 (a Line keeps it as floats).
    value = float(value)
    return int(value) if value.is_integer() else float(str(precision(value)))


def write_json_lines(lines: list[Line], out_dir: str | Path, names: list[str] | None = None) -> list[Path]:
    """Write lines in the original format as NAME.json, a line's text in NAME.txt beside it:
    names as given (line_names gives each line its own), else 0, 1, ...

    Row 0 is the absolute start [x, y, pen_up] (pen_up 1 when the start is a stroke of its own,
    as in some of the article's lines), then one [dx, dy, pen_up] row per point. Refuses a
    folder that already holds files, so a corpus never mixes with an older one.
    """
    out_dir = _new_folder(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = names or [str(index) for index in range(len(lines))]
    return [write_json_line(line, out_dir / f"{name}.json")
            for name, line in zip(names, _progress(lines, f"writing {out_dir}"), strict=True)]


def _new_folder(out_dir: str | Path) -> Path:
    """`out_dir`, which must be new or empty: a corpus never mixes with an older one."""
    out_dir = Path(out_dir)
    if why := not_new(out_dir):
        raise DataError(f"{out_dir}: {why}: write lines into a new or empty folder")
    return out_dir


def _line_name(line: Line) -> str:
    """A line's own name from its source, as a plain file name (word characters, . and -):
    a01-000u-01 for IAM's a01-000u-01.xml (a file or an archive member), 7 for 7.json or
    distill's validation-data/7.json, synthetic-000017 for synthetic line 17. Folders and
    leading dots or underscores go (the loader skips such files), so no name leads elsewhere."""
    synthetic = re.fullmatch(r"synthetic:seed=\d+:(\d+)", line.source)
    if synthetic:
        return f"synthetic-{int(synthetic.group(1)):06d}"
    last = re.split(r"[/\\:]", line.source)[-1]  # archive sources are ARCHIVE:MEMBER
    stem = last[:-len(Path(last).suffix)] if Path(last).suffix.lower() in LINE_PARSERS else last
    return re.sub(r"[^\w.-]+", "_", stem).lstrip("._")[:100] or "line"  # 100: far below any name limit


def line_names(lines: list[Line]) -> list[str]:
    """A file name per line (without .json) that loads back in the same order: each line's own
    name (_line_name), a clash made unique with -2, -3, ...; when the names alone would sort
    otherwise (lines from several folders), every name starts with its position, 0007-name."""
    names: list[str] = []
    taken: set[str] = set()  # casefolded: a01 and A01 are one file on some file systems
    next_suffix: dict[str, int] = {}
    for line in lines:
        name = base = _line_name(line)
        while name.casefold() in taken:
            next_suffix[base] = next_suffix.get(base, 1) + 1
            name = f"{base}-{next_suffix[base]}"
        taken.add(name.casefold())
        names.append(name)
    keys = [_natural_key(f"{name}.json") for name in names]
    if keys != sorted(keys):
        width = len(str(len(names) - 1))
        names = [f"{index:0{width}d}-{name}" for index, name in enumerate(names)]
    return names


def json_line(line: Line) -> str:
    """A line in the original format: the text of its NAME.json."""
    start = [*(_json_number(value, np.float64) for value in line.start), line.meta.get("start_pen_up", 0)]
    return json.dumps([start, *([_json_number(value) for value in row] for row in line.points.tolist())])


def write_json_line(line: Line, path: Path) -> Path:
    """One line in the original format at path (NAME.json), its text (if any) beside it in NAME.txt."""
    path.write_text(json_line(line))
    if line.text:
        path.with_suffix(TEXT_SUFFIX).write_text(line.text, encoding="utf-8")
    return path


# --- IAM On-Line Handwriting Database lineStrokes XML ----------------------------------------


def _parse_iam_xml(data: bytes, where: str) -> Line:
    """WhiteboardCaptureSession/StrokeSet/Stroke/Point with absolute x, y (y downward).

    Only x and y are read: the model sees offsets, not timing. A Transcription/TextLine `text`
    attribute (as in IAM's original XML, and as `write_iam_xml` writes it) becomes the text.
    """
    parser = expat.ParserCreate()
    strokes: list[list[tuple[float, float]]] = []
    open_tags: list[str] = []
    stroke_positions: list[str] = []
    text = ""

    def position() -> str:
        return f"{where}:{parser.CurrentLineNumber}:{parser.CurrentColumnNumber + 1}"

    def point_error(attributes: dict) -> DataError:
        where_point = f"{position()}: Stroke {len(strokes)}, Point {len(strokes[-1]) + 1}"
        name = next(name for name in ("x", "y") if not _finite_number(_float_or_nan(attributes.get(name))))
        if name not in attributes:
            return DataError(f"{where_point}: attribute {name!r} is missing: every Point needs numeric x and y")
        return DataError(f"{where_point}: {name}={_brief(attributes[name])} is not a finite number: "
                         f"every Point needs numeric x and y")

    def start_element(tag: str, attributes: dict) -> None:
        nonlocal text
        parent = open_tags[-1] if open_tags else None
        if parent is None and tag != "WhiteboardCaptureSession":
            raise DataError(f"{position()}: root element is <{tag}>, not <WhiteboardCaptureSession>: "
                            f"expected an IAM-OnDB lineStrokes file")
        if tag == "Stroke":
            strokes.append([])
            stroke_positions.append(position())
        elif tag == "Point" and parent == "Stroke":
            x, y = _float_or_nan(attributes.get("x")), _float_or_nan(attributes.get("y"))
            if not (_finite_number(x) and _finite_number(y)):
                raise point_error(attributes)
            strokes[-1].append((x, y))
        elif tag == "TextLine" and parent == "Transcription":
            text = attributes.get("text", "")
        open_tags.append(tag)

    def end_element(tag: str) -> None:
        open_tags.pop()
        if tag == "Stroke" and not strokes[-1]:
            raise DataError(f"{stroke_positions[-1]}: Stroke {len(strokes)} has no Point: "
                            f"remove the empty stroke")

    parser.StartElementHandler = start_element
    parser.EndElementHandler = end_element
    try:
        parser.Parse(data, True)
    except expat.ExpatError as error:
        raise DataError(f"{where}:{error.lineno}:{error.offset + 1}: invalid XML "
                        f"({expat.ErrorString(error.code)}): repair the file or leave it out") from None
    if sum(len(stroke) for stroke in strokes) < 2:
        raise DataError(f"{where}: {sum(map(len, strokes))} Point elements in StrokeSet/Stroke: "
                        f"a line needs at least two points")
    xy = np.array([point for stroke in strokes for point in stroke], np.float64)
    pen_up = np.zeros(len(xy), np.float32)
    pen_up[np.cumsum([len(stroke) for stroke in strokes]) - 1] = 1
    return _line_from_absolute(xy, pen_up, text=text)


def _xml_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def write_iam_xml(line: Line, path: str | Path) -> Path:
    """Write one line as IAM-OnDB lineStrokes XML, with synthetic times 10 ms apart (100 Hz)."""
    xy, pen_up = _absolute(line)
    stroke_ends = set(np.flatnonzero(pen_up).tolist()) | {len(xy) - 1}
    times = [f"{0.01 * index:.2f}" for index in range(len(xy))]
    corner = [_xml_number(value) for value in xy.max(axis=0)]
    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<WhiteboardCaptureSession>",
           "  <WhiteboardDescription>", '    <SensorLocation corner="top_left"/>',
           f'    <DiagonallyOppositeCoords x="{corner[0]}" y="{corner[1]}"/>',
           "  </WhiteboardDescription>"]
    if line.text:
        out += ["  <Transcription>", f"    <TextLine text={quoteattr(line.text)}/>", "  </Transcription>"]
    out.append("  <StrokeSet>")
    first = 0
    for last in sorted(stroke_ends):
        out.append(f'    <Stroke colour="black" start_time="{times[first]}" end_time="{times[last]}">')
        out += [f'      <Point x="{_xml_number(x)}" y="{_xml_number(y)}" time="{times[index]}"/>'
                for index, (x, y) in enumerate(xy[first:last + 1], start=first)]
        out.append("    </Stroke>")
        first = last + 1
    out += ["  </StrokeSet>", "</WhiteboardCaptureSession>", ""]
    path = Path(path)
    path.write_text("\n".join(out), encoding="utf-8")
    return path


# --- load: every source ----------------------------------------------------------------------

LINE_PARSERS = {".json": _parse_json_line, ".xml": _parse_iam_xml}
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")
SOURCES_HELP = ("a JSON line file or folder, IAM-OnDB lineStrokes XML (file, folder or .tar.gz), "
                "'synthetic', 'synthetic:N', 'synthetic:N:chars=LOW-HIGH[:capitals=W][:print=K][:seed=S]' or 'distill'")


def _is_line_file(relative: str) -> bool:
    parts = relative.split("/")
    return (not any(part.startswith(SKIPPED_PREFIXES) for part in parts)
            and Path(parts[-1]).suffix.lower() in LINE_PARSERS)


def _inside(path: Path, folder: Path) -> Path:
    """`path`, when it lies in `folder` once links are followed: a data folder is published with
    the page, so a link out of it would publish whatever it points to."""
    if not path.resolve().is_relative_to(folder.resolve()):
        raise DataError(f"{path}: links out of {folder}, and data folders don't follow links out of "
                        "themselves: copy the file in instead")
    return path


def _load_file(path: Path, folder: Path | None = None) -> Line:
    """The line at `path`, with the text of N.txt beside N.json; a file of the data `folder` it
    was found in may not link out of it, nor may N.txt out of the line's own folder."""
    try:
        source = _inside(path, folder) if folder else path
        _check_size(source.stat().st_size, str(path))
        line = LINE_PARSERS[path.suffix.lower()](source.read_bytes(), str(path))
        text_path = path.with_suffix(TEXT_SUFFIX)
        if path.suffix.lower() == ".json" and text_path.is_file() and _inside(text_path, folder or path.parent):
            line.text = text_path.read_text(encoding="utf-8")
    except OSError as error:
        raise DataError(f"{error.filename or path}: cannot read ({cause(error)}): check the file") from None
    except UnicodeDecodeError as error:
        raise DataError(f"{path.with_suffix(TEXT_SUFFIX)}: byte {error.start}: not UTF-8 text: "
                        f"save the line's text as UTF-8") from None
    line.source = str(path)
    return line


def _load_folder(folder: Path, limit: int | None) -> list[Line]:
    paths = sorted((path for path in folder.rglob("*")
                    if path.is_file() and _is_line_file(path.relative_to(folder).as_posix())),
                   key=lambda path: _natural_key(path.relative_to(folder).as_posix()))
    if not paths:
        raise DataError(f"{folder}: no .json or .xml line files in this folder tree: give {SOURCES_HELP}")
    chosen = paths[:limit]
    return [_load_file(path, folder) for path in _progress(chosen, f"loading {folder}", total=len(chosen))]


def _archive_members(path: Path, wanted=_is_line_file):
    """(member, archive) for each wanted file (line files by default), streamed: the archive is
    read front to back once."""
    current = None
    try:
        with tarfile.open(path, "r|*") as archive:
            for member in archive:
                current = member.name
                if member.isfile() and wanted(member.name):
                    yield member, archive
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        after = f" after member {current}" if current else ""
        raise DataError(f"{path}: unreadable archive{after} ({error}): download it again") from None


def _load_archive(path: Path, limit: int | None) -> list[Line]:
    """Lines from a tar archive (IAM's lineStrokes-all.tar.gz) without unpacking it to disk.

    Two streaming passes, since a gzip stream cannot seek back cheaply: one lists the members
    so they can be taken in sorted order, the other parses the chosen ones.
    """
    names = sorted((member.name for member, _ in _archive_members(path)), key=_natural_key)
    if not names:
        raise DataError(f"{path}: no .xml or .json line files in this archive: give {SOURCES_HELP}")
    rank = {name: index for index, name in enumerate(names[:limit])}
    lines: dict[str, Line] = {}
    pending = set(rank)
    bar = _progress(None, f"loading {path.name}", total=len(rank))
    for member, archive in _archive_members(path):
        if member.name not in pending:
            continue
        where = f"{path}:{member.name}"
        _check_size(member.size, where)
        try:
            data = archive.extractfile(member).read()
        except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
            raise DataError(f"{where}: unreadable archive member ({error}): download the archive again") from None
        line = LINE_PARSERS[Path(member.name).suffix.lower()](data, where)
        line.source = where
        lines[member.name] = line
        bar.update()
        pending.remove(member.name)
        if not pending:  # the rest of the archive need not be decompressed
            break
    bar.close()
    return [lines[name] for name in rank]


# --- IAM-OnDB transcriptions (ascii/ or ascii-all.tar.gz) ------------------------------------

TRANSCRIPTION_SOURCES = ("ascii", "ascii-all.tar.gz")  # looked for in this order, in each folder
TRANSCRIPTIONS_HELP = ("IAM-OnDB lines take their texts from an ascii/ folder or ascii-all.tar.gz "
                       "in the source's folder or a folder above it")
IAM_LINE_NAME = re.compile(r"(.+)-([0-9]{2})\.xml")  # a01-000u-01.xml: form a01-000u, line 1


def transcription_source(path: Path) -> Path | None:
    """The nearest ascii/ folder or ascii-all.tar.gz, from the source's own folder upward."""
    path = path.absolute()
    for folder in [path, *path.parents] if path.is_dir() else path.parents:
        for name in TRANSCRIPTION_SOURCES:
            candidate = folder / name
            if candidate.is_dir() if name == "ascii" else candidate.is_file():
                return candidate
    return None


def _csr_lines(data: bytes, where: str) -> list[str]:
    """The non-blank lines after the line `CSR:` of an IAM-OnDB ascii file, in order."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("iso-8859-1")  # the encoding IAM's own XML files declare
    rows = [row.strip() for row in text.splitlines()]
    if "CSR:" not in rows:
        raise DataError(f"{where}: no line 'CSR:': expected an IAM-OnDB ascii transcription file")
    return [row for row in rows[rows.index("CSR:") + 1:] if row]


def _read_transcriptions(source: Path, forms: set[str]) -> dict[str, tuple[str, list[str]]]:
    """{form: (where, CSR lines)} for the wanted forms' ascii files (a01-000u.txt), from the
    folder or archive; only those small files are read, the archive streamed once at most."""
    def wanted(name: str) -> bool:
        path = Path(name)
        return path.suffix == TEXT_SUFFIX and path.stem in forms and not path.name.startswith(SKIPPED_PREFIXES)

    found = {}
    if source.is_dir():
        for path in filter(wanted, map(str, source.rglob(f"*{TEXT_SUFFIX}"))):
            try:
                found[Path(path).stem] = (path, _csr_lines(Path(path).read_bytes(), path))
            except OSError as error:
                raise DataError(f"{path}: cannot read ({cause(error)}): check the file") from None
        return found
    for member, archive in _archive_members(source, wanted):
        where = f"{source}:{member.name}"
        try:
            data = archive.extractfile(member).read()
        except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
            raise DataError(f"{where}: unreadable archive member ({error}): download the archive again") from None
        found[Path(member.name).stem] = (where, _csr_lines(data, where))
        if len(found) == len(forms):  # the rest of the archive need not be decompressed
            break
    return found


def _add_transcriptions(lines: list[Line], path: Path) -> list[Line]:
    """IAM-OnDB XML lines without a text of their own take theirs from IAM's ascii files, when
    found (see transcription_source): line k after `CSR:` in a01-000u.txt is a01-000u-0k.xml."""
    untexted = [line for line in lines if not line.text and line.source.lower().endswith(".xml")]
    source = transcription_source(path) if untexted else None
    if source is None:
        return lines
    names = {id(line): IAM_LINE_NAME.fullmatch(Path(line.source).name) for line in untexted}
    transcriptions = _read_transcriptions(source, {match.group(1) for match in names.values() if match})
    for line in untexted:
        match = names[id(line)]
        if not match or match.group(1) not in transcriptions:
            expected = f"{match.group(1)}.txt" if match else "a file named like a01-000u-01.xml"
            raise DataError(f"{line.source}: no transcription in {source} (expected {expected}): "
                            f"add it, or move {source.name} away to load the lines without text")
        where, texts = transcriptions[match.group(1)]
        number = int(match.group(2))
        if not 1 <= number <= len(texts):
            raise DataError(f"{line.source}: line {number} of its form, but {where} has {len(texts)} "
                            f"lines after 'CSR:': the transcription does not match the strokes")
        line.text = texts[number - 1]
    return lines


# synthetic:N:chars=LOW-HIGH:capitals=W:print=K:seed=S, each part after `synthetic` optional, in this order.
SYNTHETIC_SOURCE = re.compile(r"synthetic(?::(?P<count>[1-9][0-9]*))?"
                              r"(?::chars=(?P<low>[1-9][0-9]*)-(?P<high>[1-9][0-9]*))?"
                              r"(?::capitals=(?P<capitals>[0-9]+(?:\.[0-9]+)?))?(?::print=(?P<print>[1-9][0-9]*))?"
                              r"(?::seed=(?P<seed>[0-9]+))?")


def _load_synthetic(count: int, seed: int, config: corpus.SynthConfig = corpus.SynthConfig()) -> list[Line]:
    lines = corpus.synthesize(count, seed, config)
    for index, line in enumerate(lines):
        line.source = f"synthetic:seed={seed}:{index}"  # its name when converted: synthetic-000017
    return lines


def _load_distill(limit: int | None) -> list[Line]:
    lines = []
    for name in _progress(remote.LINE_NAMES[:limit], "loading distill"):
        line = _load_file(remote.fetch(name))
        line.source = f"distill:{name}"
        lines.append(line)
    return lines


def load(source: str | Path, *, limit: int | None = None) -> list[Line]:
    """Every line of a source, in a fixed order (sorted paths, 2 before 10), points as stored.

    `source` is a JSON line file or a folder tree of them (with N.txt texts beside), an
    IAM-OnDB lineStrokes XML file, folder tree or tar archive (read without unpacking),
    `synthetic` / `synthetic:N` (model.corpus, seed 0; `synthetic:N:chars=3-12` writes lines of
    about 3 to 12 characters: phrases until a length drawn from that range is reached; then
    `:capitals=W` draws all-capital words with weight W, beside 60 for a word (SynthConfig.phrases);
    `:print=K` draws each hand that does not join its letters K times as often as one that does;
    a last `:seed=S` draws other lines, e.g. to train on lines that a seed-0 corpus's held-out
    ones are not among), or
    `distill` (the original article's 145 human lines, model.remote).
    `limit` keeps the first lines only. All or nothing: the first bad input raises DataError
    naming the file and the place in it.

    IAM-OnDB lines get their texts from IAM's transcriptions: an `ascii/` folder (as unpacked
    from ascii-all.tar.gz) or `ascii-all.tar.gz` itself, the nearest one in the source's own
    folder or a folder above it (so `lineStrokes/` or `lineStrokes-all.tar.gz` beside them).
    The lines after `CSR:` in ascii/a01/a01-000/a01-000u.txt, blank ones skipped, are the texts
    of a01-000u-01.xml, -02, ... in order. When transcriptions are found, every XML line without
    a text of its own (a Transcription element) must have one; without them, no text.
    """
    if limit is not None and limit < 1:
        raise DataError(f"limit {limit}: must be at least 1: ask for one line or more")
    name = str(source)
    if name == "distill":
        return _load_distill(limit)
    if name.split(":")[0] == "synthetic":
        match = SYNTHETIC_SOURCE.fullmatch(name)
        if not match or (match["low"] and int(match["low"]) > int(match["high"])):
            raise DataError(f"{name}: not a synthetic source: write synthetic:N[:chars=LOW-HIGH][:capitals=W]"
                            "[:print=K][:seed=S] in this order, N above 0, LOW <= HIGH, W a number, K a whole "
                            "number above 0, e.g. synthetic:200:chars=3-12")
        count = int(match["count"] or DEFAULT_SYNTHETIC_LINES)
        config = corpus.SynthConfig()
        if match["low"]:
            config = replace(config, chars_per_line=(int(match["low"]), int(match["high"])))
        if match["capitals"]:
            config = replace(config, phrases=tuple((kind, float(match["capitals"]) if kind == "capitals" else weight)
                                                   for kind, weight in config.phrases))
        if match["print"]:  # the joined hands first, as in SynthConfig.fonts: K = 1 draws the same lines
            unjoined = tuple(font for font in config.fonts if font not in corpus.JOINED_FONTS)
            config = replace(config, fonts=corpus.JOINED_FONTS + unjoined * int(match["print"]))
        return _load_synthetic(min(count, limit or count), seed=int(match["seed"] or 0), config=config)
    path = Path(source)
    if path.is_dir():
        return _add_transcriptions(_load_folder(path, limit), path)
    if path.is_file() and path.name.lower().endswith(ARCHIVE_SUFFIXES):
        return _add_transcriptions(_load_archive(path, limit), path)
    if path.is_file() and path.suffix.lower() in LINE_PARSERS:
        return _add_transcriptions([_load_file(path)], path)
    problem = "unsupported kind of file" if path.is_file() else "no such file or folder"
    raise DataError(f"{name}: {problem}: give {SOURCES_HELP}")


# --- training clean-up (Graves 2013, section 4.1) ---------------------------------------------


def longest_text(metrics: dict, data: str) -> int | None:
    """The most characters of a line a text model learned from: what model.train recorded in its
    metrics, else the top of the `chars=LOW-HIGH` of a synthetic source it was trained on
    (`data`, its train.json's); None when neither says."""
    if "longest_text" in metrics:
        return metrics["longest_text"]
    chars = re.search(r"chars=\d+-(\d+)", data)
    return int(chars.group(1)) if chars else None


@dataclass(frozen=True)
class CleanConfig:
    """The clean-up `clean` applies before training, in this order.

    Graves (2013, section 4.1) corrected IAM-OnDB's recording errors by "removing steps whose
    length exceeded a certain threshold". Here:
    1. A pen-down step (one not following a pen lift) longer than the threshold is a digitiser
       glitch: its point is removed and its offset carried into the next point, so every other
       point keeps its absolute position (a spike out and back becomes one ordinary step). A pen
       lift on a removed point passes to the point before it. The threshold is `max_step_raw`
       when given, else `step_factor` times the `step_percentile` percentile of the corpus's
       pen-down step lengths (on the article's 145 lines: 2 x 265 raw units, removing nothing).
    2. Every remaining dx and dy is clipped to +-`clip_raw` (mostly long pen-up moves; the
       article's lines already stay within 1000 raw units).
    3. Lines left with fewer than `min_points` points are dropped.
    """

    max_step_raw: float | None = None
    step_percentile: float = 99.99
    step_factor: float = 2.0
    clip_raw: float = 1000.0
    min_points: int = 10

    def __post_init__(self):
        if not (self.max_step_raw is None or self.max_step_raw > 0) or not 0 < self.step_percentile <= 100 \
                or not self.step_factor > 0 or not self.clip_raw > 0 or not self.min_points >= 1:
            raise DataError(f"clean settings {asdict(self)}: max_step_raw, step_factor and clip_raw must be above 0, "
                            "step_percentile from above 0 to 100, min_points at least 1")

    @classmethod
    def from_json(cls, settings: dict, where: str) -> CleanConfig:
        """The settings a run saved (train.json's `clean`), checked: one line naming `where` if not."""
        unknown = set(settings) - {field.name for field in fields(cls)}
        if unknown:
            raise DataError(f"{where}: clean has unknown settings {sorted(unknown)}: remove them")
        return cls(**settings)


def _lifted_before(line: Line) -> np.ndarray:
    """Per point: does the pen lift before it, making its offset an invisible move?"""
    return np.concatenate([[line.meta.get("start_pen_up", 0)], line.points[:-1, 2]]).astype(bool)


def _step_lengths(line: Line) -> np.ndarray:
    return np.hypot(line.points[:, 0], line.points[:, 1], dtype=np.float64)


def _remove_outlier_steps(line: Line, threshold: float) -> tuple[np.ndarray, int]:
    """Points without their pen-down steps beyond the threshold, and the start's pen lift."""
    start_pen_up = line.meta.get("start_pen_up", 0)
    if not (_step_lengths(line)[~_lifted_before(line)] > threshold).any():
        return line.points.copy(), start_pen_up
    kept: list[list[float]] = []
    carry_x = carry_y = 0.0
    lifted = bool(start_pen_up)
    for dx, dy, pen_up in line.points.tolist():
        dx, dy = dx + carry_x, dy + carry_y
        if not lifted and math.hypot(dx, dy) > threshold:
            carry_x, carry_y = dx, dy
            if pen_up and kept:
                kept[-1][2], lifted = 1, True
            elif pen_up:
                start_pen_up, lifted = 1, True
            continue
        carry_x = carry_y = 0.0
        kept.append([dx, dy, pen_up])
        lifted = bool(pen_up)
    return np.array(kept, np.float32).reshape(-1, 3), start_pen_up


def clean(lines: list[Line], config: CleanConfig = CleanConfig()) -> list[Line]:
    """New lines cleaned for training as CleanConfig describes; each notes what changed in meta["clean"]."""
    threshold = config.max_step_raw
    if threshold is None:
        steps = np.concatenate([_step_lengths(line)[~_lifted_before(line)] for line in lines] or [[]])
        threshold = (config.step_factor * float(np.percentile(steps, config.step_percentile))
                     if len(steps) else math.inf)
    cleaned = []
    for line in lines:
        points, start_pen_up = _remove_outlier_steps(line, threshold)
        clipped = int((np.abs(points[:, :2]) > config.clip_raw).sum())
        points[:, :2] = np.clip(points[:, :2], -config.clip_raw, config.clip_raw)
        if len(points) < max(config.min_points, 1):
            continue
        meta = {key: value for key, value in line.meta.items() if key != "start_pen_up"}
        meta.update({"start_pen_up": 1} if start_pen_up else {})
        meta["clean"] = {"removed_points": len(line.points) - len(points), "clipped_values": clipped,
                         "max_step_raw": threshold}
        cleaned.append(replace(line, points=points, meta=meta))
    return cleaned


def split_lines(lines: list[Line], val_fraction: float, seed: int) -> tuple[list[Line], list[Line]]:
    """(train, validation): a seeded random choice of whole lines, at least one in each;
    model.train holds the validation lines out, model.evaluate scores them again. Exact copies
    of a line (the article's 145 lines hold 8 pairs) fall on the same side, so no validation
    line was trained on; without copies the split is a plain permutation of the lines."""
    if len(lines) < 2:
        raise DataError(f"{len(lines)} line(s) after clean-up: need at least 2 to hold one out for "
                         "validation; give a larger source")
    copies: dict[bytes, list[int]] = {}
    for index, line in enumerate(lines):
        copies.setdefault(line.points.tobytes(), []).append(index)
    groups = list(copies.values())
    if len(groups) < 2:
        raise DataError(f"{len(lines)} lines, all copies of one: need two different lines to hold one out "
                        "for validation")
    wanted = min(max(1, round(len(lines) * val_fraction)), len(lines) - 1)
    order = np.random.default_rng(seed).permutation(len(groups))
    held_out: list[int] = []
    for group in order:
        if len(held_out) >= wanted or len(held_out) + len(groups[group]) == len(lines):
            break
        held_out += groups[group]
    kept = set(held_out)
    return [lines[i] for group in order for i in groups[group] if i not in kept], [lines[i] for i in held_out]


# --- statistics -------------------------------------------------------------------------------


def stats(lines: list[Line]) -> dict:
    """Corpus statistics in raw units; what the synthetic corpus is checked against.

    Counted over the points after the start (as the article counts them): a step is a pen-down
    offset, a move one that follows a pen lift; a stroke ends at each pen lift (and at the end).
    When lines have text: how many of its characters fall outside the default alphabet (a
    text model reads each as the one placeholder) and which ones.
    """
    if not lines:
        return {"lines": 0, "points": 0}
    per_line = np.array([len(line.points) for line in lines])
    lifted = [_lifted_before(line) for line in lines]
    lengths = [_step_lengths(line) for line in lines]
    steps = np.concatenate([length[~lift] for length, lift in zip(lengths, lifted)])
    moves = np.concatenate([length[lift] for length, lift in zip(lengths, lifted)])
    stroke_sizes = np.concatenate([np.bincount(np.cumsum(lift) - lift[0]) for lift in lifted])
    texts = [line for line in lines if line.text]
    chars = sum(len(line.text) for line in texts)
    alphabet = Alphabet.default()
    unknown = [char for line in texts for char in alphabet.unknown(line.text)]
    described: dict = {
        "lines": len(lines),
        "points": int(per_line.sum()),
        "strokes": len(stroke_sizes),
        "mean_points_per_line": round(float(per_line.mean()), 2),
        "min_points_per_line": int(per_line.min()),
        "max_points_per_line": int(per_line.max()),
        "median_points_per_stroke": float(np.median(stroke_sizes)),
        "median_step_raw": round(float(np.median(steps)), 3) if len(steps) else None,
        "p99_step_raw": round(float(np.percentile(steps, 99)), 3) if len(steps) else None,
        "median_move_raw": round(float(np.median(moves)), 3) if len(moves) else None,
        "lines_with_text": len(texts),
        "points_per_char": round(sum(len(line.points) for line in texts) / chars, 3) if chars else None,
    }
    if texts:
        described.update(unknown_characters=len(unknown), unknown_character_set="".join(sorted(set(unknown))))
    return described


# --- command line -----------------------------------------------------------------------------


def _write_corpus(lines: list[Line], out_dir: str, config: dict) -> None:
    """The lines, then their stage config and statistics as _config.json beside them, written
    into a folder beside `out_dir` and renamed to it at the end: a full disk or a kill leaves no
    partial corpus for the next command to refuse. The source is named as the page would name it
    (model.base.shown_name): the folder is meant to be committed."""
    out = _new_folder(out_dir)
    with replacing_folder(out) as building:
        write_json_lines(lines, building, line_names(lines))
        described = {**config, "stats": stats(lines)}
        (building / CONFIG_NAME).write_text(json.dumps(described, indent=2) + "\n")
    print(f"wrote {len(lines)} lines to {out_dir}")


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m model.data", description=(
        "Handwriting lines: render the synthetic corpus, convert any source to JSON lines, "
        "print corpus statistics. Sources: " + SOURCES_HELP + ". " + TRANSCRIPTIONS_HELP + "."))
    commands = parser.add_subparsers(dest="command", required=True)
    synth = commands.add_parser("synth", help="write N synthetic cursive lines as JSON line files")
    synth.add_argument("--lines", type=ranged(int, 1), default=DEFAULT_SYNTHETIC_LINES,
                       help="how many lines (default %(default)s)")
    synth.add_argument("--seed", type=seed_argument, default=0, help="random seed (default %(default)s)")
    synth.add_argument("--out", required=True, help="new or empty folder for NAME.json (+ NAME.txt) files")
    convert = commands.add_parser("convert", help="convert any source to JSON line files")
    convert.add_argument("source", help=f"{SOURCES_HELP}; {TRANSCRIPTIONS_HELP}")
    convert.add_argument("--out", required=True, help="new or empty folder for NAME.json (+ NAME.txt) files")
    convert.add_argument("--limit", type=ranged(int, 1), help="keep only the first N lines")
    describe = commands.add_parser("stats", help="print one JSON line of corpus statistics")
    describe.add_argument("source", help=f"{SOURCES_HELP}; {TRANSCRIPTIONS_HELP}")
    describe.add_argument("--limit", type=ranged(int, 1), help="only the first N lines")
    args = parser.parse_args(argv)
    return run_cli(lambda: _run(args))


def _run(args: argparse.Namespace) -> None:
    if args.command == "synth":
        _write_corpus(_load_synthetic(args.lines, args.seed), args.out,
                      {"stage": "synth", "lines": args.lines, "seed": args.seed, "synth": asdict(corpus.SynthConfig())})
    elif args.command == "convert":
        _write_corpus(load(args.source, limit=args.limit), args.out,
                      {"stage": "convert", "source": shown_name(args.source), "limit": args.limit})
    else:
        print(json.dumps(stats(load(args.source, limit=args.limit))))


if __name__ == "__main__":
    sys.exit(main())
