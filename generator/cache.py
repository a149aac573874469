"""A content-addressed cache for the build's expensive precomputes.

A rebuild after a template change must take seconds, so whatever a figure computes with the
model (samples, cell states, the t-SNE order, possibility spaces) is kept under .cache/ and
found again by a key made of everything the result depends on: the model's weights, the lines
shown, the build settings (seed), the figure's own settings, and the source code of the
function that computed it. Change any of them and the key changes; nothing is ever stale.
build.py keeps with it, whole, what the page takes from the model, keyed by files_fingerprint:
the bytes of the files it reads, known before TensorFlow is even imported.
"""
from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent

# Code every precompute runs through besides its own module: changing the model's maths or the
# shared precomputes must invalidate cached results.
SHARED_CODE = [REPO_ROOT / "generator" / "precompute.py", REPO_ROOT / "model" / "network.py",
               REPO_ROOT / "model" / "evaluate.py", REPO_ROOT / "model" / "batches.py"]


def fingerprint(*parts: Any) -> str:
    """sha256 of JSON-able parts and byte strings, in order."""
    digest = hashlib.sha256()
    for part in parts:
        if hasattr(part, "tobytes"):  # numpy arrays: exact bytes plus shape and dtype
            digest.update(f"{part.dtype}{part.shape}".encode())
            part = part.tobytes()
        if not isinstance(part, bytes):
            part = json.dumps(part, sort_keys=True, default=str).encode()
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()


def model_fingerprint(model) -> str:
    """Identifies a model by its architecture and exact weights."""
    return fingerprint(model.to_json(), *model.get_weights())


def lines_fingerprint(lines) -> str:
    return fingerprint(*[part for line in lines for part in (line.points, list(line.start), line.text)])


def _files(path: Path) -> list[tuple[str, Path]]:
    """(name, file) for a file, or for every file in a folder tree by its relative name."""
    if path.is_file():
        return [(path.name, path)]
    return [(file.relative_to(path).as_posix(), file) for file in sorted(path.rglob("*"))
            if file.is_file() and "__pycache__" not in file.parts] if path.is_dir() else []


def files_fingerprint(*paths: Path) -> str:
    """Identifies what lies at `paths` by bytes alone, parsing nothing: a file by its name and
    bytes, a folder by every file under it (__pycache__ left out), a missing path as empty."""
    parts: list[Any] = []
    for path in paths:
        files = _files(Path(path))
        parts += [len(files), *[part for name, file in files for part in (name, file.read_bytes())]]
    return fingerprint(*parts)


def _code_version(compute: Callable) -> str:
    sources: list[str | Path] = [inspect.getsourcefile(compute) or "", *SHARED_CODE]
    return fingerprint(*[Path(path).read_bytes() if Path(path).is_file() else str(path) for path in sources])


# Entries kept per name, the most recently used: an author switching between a few models or
# sets of lines finds each again, and a long series of edits to model/ does not fill the disk
# (the page's stage is about 9 MB an entry).
KEPT_PER_NAME = 4
KEY_CHARACTERS = 24


class Cache:
    """memo(name, key_parts, compute): compute() once per distinct key, then read it back.

    `base_key` names what the whole build depends on (model, lines, seed); `key_parts` adds
    the figure's own settings. Results are pickled (numpy arrays and dicts of them are fine).
    `folder=None` disables storing, for builds that must not touch the disk cache. Of the
    entries of one name, the KEPT_PER_NAME most recently used stay.
    """

    def __init__(self, folder: Path | None, base_key: str):
        self.folder = Path(folder) if folder else None
        self.base_key = base_key
        self.hits = self.misses = 0

    def key(self, name: str, key_parts: Any, compute: Callable) -> str:
        return fingerprint(self.base_key, name, key_parts, _code_version(compute))

    def memo(self, name: str, key_parts: Any, compute: Callable[[], Any]) -> Any:
        if self.folder is None:
            self.misses += 1
            return compute()
        path = self.folder / f"{name}-{self.key(name, key_parts, compute)[:KEY_CHARACTERS]}.pkl"
        if path.is_file():
            try:
                with path.open("rb") as file:
                    value = pickle.load(file)
                    os.utime(file.fileno())  # used now: kept longest
                self.hits += 1
                return value
            except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, FileNotFoundError):
                pass  # a damaged or outdated entry (or one another build just pruned) is computed again
        self.misses += 1
        value = compute()
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        with partial.open("wb") as file:
            pickle.dump(value, file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, path)  # a killed build never leaves a half-written entry
        _prune(self.folder, name)
        return value


def _prune(folder: Path, name: str) -> None:
    """Delete the entries of `name` but the KEPT_PER_NAME most recently used."""
    entries = []
    for entry in folder.glob(f"{name}-{'?' * KEY_CHARACTERS}.pkl"):
        with contextlib.suppress(FileNotFoundError):  # pruned by another build meanwhile
            entries.append((entry.stat().st_mtime_ns, entry))
    for _, stale in sorted(entries, reverse=True)[KEPT_PER_NAME:]:
        stale.unlink(missing_ok=True)
