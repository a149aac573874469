"""What the whole project shares: a line of handwriting and its units, where things are, and
the one way a user's error ends a command.

A line is a sequence of pen points, each the offset (dx, dy) from the previous point plus a
pen-lift flag (Graves 2013, section 4.2), as the Distill article by Carter, Ha, Johnson and
Olah (2016) stores them. This module is the floor of the house: it imports nothing from the
project, and every other module (model.data, model.corpus, model.remote, model.weights, the
site builder) imports what it needs from here, so no import ever runs in a circle.
"""
from __future__ import annotations

import argparse
import contextlib
import errno
import fcntl
import itertools
import json
import math
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import numpy as np

# Raw pen units per model unit: the model reads and writes offsets divided by this.
MODEL_UNIT = 40.0

REPO_ROOT = Path(__file__).resolve().parent.parent
# The trained models committed with the project (default, writer, recognizer), apart from the code.
MODELS_DIR = REPO_ROOT / "models"
# The two files every model folder holds, the handwriting models' (model.weights) as the
# recogniser's (model.recognizer): its shape as JSON, and its weights.
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.h5"
METRICS_FILE = "metrics.json"  # model.train's log, one record per epoch


def distill_dir() -> Path:
    """Where the original article's files live locally (weights, human lines, golden outputs).

    One setting for the whole project: the HANDWRITING_DISTILL environment variable, by
    default ../shared/distill beside the checkout.
    """
    return Path(os.environ.get("HANDWRITING_DISTILL", REPO_ROOT.parent / "shared" / "distill"))


# Where a local path starts in a text: a drive (C:\\), ~/, ./ or any word holding a separator.
_PATH_START = re.compile(r"(?:^|(?<=\s))(?:[A-Za-z]:[\\/]|~|\S*[\\/])")


def shown_name(source: str) -> str:
    """How the page names a source: a local path by its last part, POSIX or Windows, with spaces
    or `~` (the site is published and must not tell where it was built), also at the end of a
    description ("model.train on /home/me/my lines" -> "model.train on my lines"); anything
    without a separator that is no local path (`distill`, `synthetic:16`) as it is."""
    if source and Path(source).expanduser().exists():  # a local path as a whole, even "my lines/x"
        resolved = Path(source).expanduser().resolve()
        return "~" if resolved == Path.home() else resolved.name  # the home folder's name is the user's
    start = _PATH_START.search(source)
    if start is None:
        return source
    path = source[start.start():]
    parts = [part for part in re.split(r"[\\/]+", path) if part not in ("", ".", "~")]
    if parts and parts[-1] != ".." and not re.fullmatch(r"[A-Za-z]:", parts[-1]):
        last = parts[-1]
    elif path.startswith("~"):
        last = "~"
    else:  # ".", "..", "/": the folder they lead to here
        last = Path(path).resolve().name
    return source[:start.start()] + last


@dataclass
class Line:
    """One line of handwriting.

    points: float32 array (T, 3) of [dx, dy, pen_up] in raw units; dx, dy is the offset
        from the previous point (for the first point, from `start`); y grows downward.
    start: absolute position (x, y) the first offset is taken from, in raw units.
    """

    points: np.ndarray
    start: tuple[float, float] = (0.0, 0.0)
    text: str = ""
    source: str = ""
    meta: dict = field(default_factory=dict)

    def model_inputs(self) -> np.ndarray:
        """The (T, 3) float32 sequence the model reads: offsets in model units, pen flag kept."""
        scaled = self.points.astype(np.float32).copy()
        scaled[:, :2] /= MODEL_UNIT
        return scaled

    def absolute(self) -> np.ndarray:
        """(T, 2) absolute pen positions in raw units."""
        return np.asarray(self.start, np.float64) + np.cumsum(self.points[:, :2], axis=0, dtype=np.float64)


# --- errors for users --------------------------------------------------------------------------


class UserError(Exception):
    """Something the user can fix. Its message is one line: what, where (file and position),
    and what to do. Every command line ends on it through `run_cli`, never with a traceback."""


class DataError(UserError, ValueError):
    """Bad input data: a line file, a folder of them, an archive, a source name."""


class ModelError(UserError, ValueError):
    """A model that cannot be found or loaded."""


def unloadable_weights(path: Path, config: dict, error: Exception) -> ModelError:
    """The one line for a weights file that would not load: one h5py cannot open (OSError) is
    damaged, cut short or not HDF5 at all; any other does not fit the folder's config."""
    reason = str(error).splitlines()[0][:120] if str(error) else type(error).__name__
    if isinstance(error, OSError):
        return ModelError(f"{path}: damaged, not a readable weights file ({reason}); restore it or retrain")
    return ModelError(f"{path}: weights do not fit config {config} ({reason}); retrain or fix config.json")


# --- JSON records a user may have edited -----------------------------------------------------------

# A schema: a type (int, float, str, dict or list; a tuple allows several, None allowing null), a
# dict of key -> schema (a key ending in "?" may be missing; other keys are not looked at), or a
# one-item list for a list of such. float takes an int too, never NaN; bool is neither.
KINDS = {int: "a whole number", float: "a finite number", str: "a string", dict: "an object", list: "a list"}


class _Mismatch(Exception):
    """Where in a record it departs from its schema, and how."""


def _shown(value) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check(value, schema, where: str = "") -> None:
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            raise _Mismatch(f"{where or 'the whole file'} is {_shown(value)}, not an object")
        for key, inner in schema.items():
            name = key.removesuffix("?")
            if name in value:
                _check(value[name], inner, f"{where}.{name}" if where else name)
            elif not key.endswith("?"):
                raise _Mismatch(f"{where + '.' if where else ''}{name} is missing")
    elif isinstance(schema, list):
        if not isinstance(value, list):
            raise _Mismatch(f"{where} is {_shown(value)}, not a list")
        for index, item in enumerate(value):
            _check(item, schema[0], f"{where}[{index}]")
    else:
        allowed = schema if isinstance(schema, tuple) else (schema,)
        number = float in allowed and type(value) in (int, float) and math.isfinite(value)
        if not (number or (value is None and None in allowed) or
                (type(value) in allowed and not isinstance(value, float))):
            names = " or ".join("null" if kind is None else KINDS[kind] for kind in allowed)
            raise _Mismatch(f"{where} is {_shown(value)}, not {names}")


def read_record(path: Path, schema, advice: str, error: type[UserError] = UserError):
    """The JSON at path, checked against schema; unreadable or departing from it, one line
    naming the file, where in it and `advice` (what to do) as `error`."""
    try:
        value = json.loads(path.read_bytes())
        _check(value, schema)
    except (ValueError, RecursionError) as problem:  # JSONDecodeError, bad UTF-8, over-long integers
        raise error(f"{path}: not readable JSON ({str(problem).splitlines()[0][:80]}): {advice}") from None
    except _Mismatch as mismatch:
        raise error(f"{path}: {mismatch}: {advice}") from None
    return value


def run_cli(command: Callable[[], object], interrupted: Callable[[], str] = lambda: "interrupted") -> int:
    """How every command line ends: 0 when `command()` returns; for a UserError, `error: <message>`
    on stderr and 2, and the same for an OSError (a file that cannot be read or written), its
    reason in one line (`cause`) after the file's name; for Ctrl-C,
    `error: <interrupted()>` and 130. Anything else is a bug and keeps its traceback."""
    try:
        command()
    except KeyboardInterrupt:
        print(f"error: {interrupted()}", file=sys.stderr)
        return 130
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # one not yet met as a UserError: said in one line all the same
        print(f"error: {error.filename}: {cause(error)}" if error.filename else f"error: {cause(error)}",
              file=sys.stderr)
        return 2
    return 0


# --- writing files whole or not at all, one writer at a time ------------------------------------


PARTIAL_SUFFIX = ".partial"  # a temporary name of `replacing`'s: what a kill may leave behind, no one's file


def cause(error: OSError) -> str:
    """Why a read or write failed, in the system's few words for its errno: h5py's strerror is a
    report of several lines (times, buffer addresses)."""
    return os.strerror(error.errno) if error.errno else " ".join((error.strerror or str(error)).split())


def cause_at(path: Path, error: OSError) -> str:
    """Why writing `path` failed: a file where one of its folders should be, else `cause`."""
    in_the_way = next((folder for folder in path.absolute().parents if os.path.isfile(folder)), None)
    return f"{in_the_way} is a file, not a folder" if in_the_way else cause(error)


def way_out(error: OSError, place: str) -> str:
    """What to do after a failed write: room for a full disk, another place for any other cause."""
    full = error.errno in (errno.ENOSPC, errno.EDQUOT)
    return f"free some space or choose {place}" if full else f"choose {place}"


def cannot_write(path: Path, error: OSError, kept: str = "nothing was written") -> UserError:
    """The one line a failed write of `path` ends in: why, what is left (`kept`), what to do."""
    return UserError(f"{path}: cannot write ({cause_at(path, error)}); {kept}: "
                     f"{way_out(error, 'another place')}, then run the command again")


@contextlib.contextmanager
def folders_for(path: Path) -> Iterator[None]:
    """The folders above `path` that do not exist yet, made for the block and removed again if it
    fails. Above the first folder that exists all do, so only the missing ones are looked at."""
    made = list(itertools.takewhile(lambda folder: not folder.exists(), path.absolute().parents))
    try:
        if made:
            made[0].mkdir(parents=True, exist_ok=True)
        yield
    except BaseException:
        if made:
            shutil.rmtree(made[-1], ignore_errors=True)
        raise


@contextlib.contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    """Write the file or folder `path` whole or not at all: yields a temporary name beside it (same
    folder, so the same file system) for the caller to fill; when the block ends well, that is
    renamed to `path` (an existing folder there is moved aside, then deleted), else deleted and
    `path` left as it was; its missing parent folders are made first, and removed again if it is
    not written. An OSError on the way (a full disk) ends as one UserError naming `path`. The
    temporary name starts with a dot, which every loader of the project skips."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}{PARTIAL_SUFFIX}")
    aside = path.with_name(f".{path.name}.{os.getpid()}.old")
    try:
        with folders_for(path):
            yield temporary
            if temporary.is_dir() and path.exists():
                path.rename(aside)
            os.replace(temporary, path)
    except OSError as error:
        raise cannot_write(path, error, "the old one is kept" if path.exists() else "nothing was written") from None
    finally:
        for leftover in (temporary, aside):
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
            elif os.path.lexists(leftover):  # not under a file in the way, where unlink fails
                leftover.unlink()


@contextlib.contextmanager
def replacing_folder(path: str | Path) -> Iterator[Path]:
    """`replacing` for a folder: a new empty folder yielded for the caller to fill."""
    with replacing(path) as building:
        building.mkdir()
        yield building


def write_file(path: str | Path, content: str | bytes) -> Path:
    """`path` holds `content` (text as UTF-8) whole, or keeps what it held (`replacing`)."""
    path = Path(path)
    with replacing(path) as temporary:
        with open(temporary, "wb") as file:
            file.write(content.encode("utf-8") if isinstance(content, str) else content)
            file.flush()
            os.fsync(file.fileno())  # a full disk shows here, before the rename, not after it
    return path


@contextlib.contextmanager
def locked(folder: str | Path, busy: str) -> Iterator[None]:
    """An exclusive lock on `folder` for as long as the block runs, held on `.NAME.lock` beside it
    (left there: removing it would race with the next holder). A second holder stops at once with
    UserError(`busy`) instead of mixing its files with the first one's. The system releases the
    lock when the process ends, even killed. Folders made for the lock are removed if its file
    cannot be opened."""
    folder = Path(folder)
    lock = folder.with_name(f".{folder.name}.lock")
    try:
        with folders_for(lock):
            file = open(lock, "a")
    except OSError as error:  # a read-only or full disk, a file where a folder should be
        raise cannot_write(folder, error) from None
    with file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(busy) from None
        yield


def not_new(folder: Path, ours: Callable[[Path], bool] = lambda path: False) -> str:
    """Why a command that writes into a new or empty `folder` must not write there ("" when it
    may): a file by that name, or files in it that are not `ours` (say a run's own partial files).
    Someone's file is never replaced by a folder."""
    if not os.path.lexists(folder):
        return ""
    if not folder.is_dir():
        return "is a file"
    return "is not empty" if any(not ours(path) for path in folder.iterdir()) else ""


class ArgumentParser(argparse.ArgumentParser):
    """argparse for every command line, a bad argument answered as a UserError is: one line
    (`error: ...`, exit 2), where argparse's own prints its usage first."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see --help)\n")


SEED_MAX = 2**31 - 1  # TensorFlow's samplers take int32 seeds; NumPy and scikit-learn take these too
MAX_BIAS = 10.0  # of model.write's sampling: Graves's figures go to 10; beyond, sigma shrinks below a float32's reach


def ranged(kind: type, low: float, high: float = math.inf) -> Callable[[str], float]:
    """An argparse type: a number of `kind` (int or float) from low to high; NaN and infinities refused."""
    def parse(text: str):
        shown = text if len(text) <= 20 else text[:17] + "..."
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{shown!r} is not {'a whole number' if kind is int else 'a number'}") \
                from None
        if not (math.isfinite(value) and low <= value <= high):
            shown_low, shown_high = (f"{bound:g}" if kind is float else str(bound) for bound in (low, high))
            raise argparse.ArgumentTypeError(f"{shown}: must be from {shown_low} to {shown_high}" if high < math.inf
                                             else f"{shown}: must be at least {shown_low}")
        return value
    return parse


seed_argument = ranged(int, 0, SEED_MAX)
