"""The characters a text-conditional model reads (Graves 2013, section 5), saved with each model.

A text becomes a sequence of integer codes, one per character, which the synthesis network
turns into one-hot vectors c_u. Code 0 is the placeholder for every character outside the
alphabet (Graves maps IAM's rare symbols to one "non-letter" class the same way); the
alphabet's own characters take codes 1..len(chars), in the order of `chars`. So a model's
input width is `alphabet.size == len(chars) + 1`, and an alphabet is only ever extended at
its end, never reordered, or a model's weights would read the wrong columns.

The default covers the synthetic corpus's words (model/words.txt, with the capitals and the
comma and full stop the corpus adds) and what IAM-OnDB's transcriptions use: letters,
digits, space and the punctuation of its lines.

    alphabet = Alphabet.default()
    codes = alphabet.encode("Hello, world")   # int32 array, 0 where a character is unknown
    alphabet.unknown("naïve")                 # ['ï']: what the placeholder would stand for
    alphabet.save(folder)                     # folder/alphabet.json; Alphabet.load(folder)
"""
from __future__ import annotations

import json
import string
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.base import DataError

ALPHABET_FILE = "alphabet.json"
UNKNOWN_CODE = 0
UNKNOWN_SYMBOL = "\ufffd"  # what decode writes for the placeholder: the Unicode replacement character
IAM_PUNCTUATION = " !\"#&'()*+,-./:;?"


@dataclass(frozen=True)
class Alphabet:
    """Characters with codes 1..len(chars); every other character is code 0."""

    chars: str

    def __post_init__(self):
        if len(set(self.chars)) != len(self.chars):
            raise DataError(f"alphabet {self.chars!r}: a character appears twice; give each once")
        if UNKNOWN_SYMBOL in self.chars:
            raise DataError(f"alphabet: {UNKNOWN_SYMBOL!r} is the placeholder's symbol, not a character")

    @classmethod
    def default(cls) -> Alphabet:
        return cls(IAM_PUNCTUATION + string.digits + string.ascii_letters)

    @property
    def size(self) -> int:
        """One-hot width: the placeholder plus every character."""
        return len(self.chars) + 1

    @property
    def _codes(self) -> dict[str, int]:
        return {char: code for code, char in enumerate(self.chars, start=1)}

    def encode(self, text: str) -> np.ndarray:
        """(len(text),) int32 codes; characters outside the alphabet get UNKNOWN_CODE."""
        codes = self._codes
        return np.fromiter((codes.get(char, UNKNOWN_CODE) for char in text), np.int32, len(text))

    def decode(self, codes) -> str:
        symbols = UNKNOWN_SYMBOL + self.chars
        return "".join(symbols[int(code)] for code in codes)

    def unknown(self, text: str) -> list[str]:
        """The characters of text outside the alphabet, in order, repeats kept (len() counts them)."""
        known = set(self.chars)
        return [char for char in text if char not in known]

    def to_json(self) -> dict:
        return {"chars": self.chars, "unknown_code": UNKNOWN_CODE}

    def save(self, folder) -> Path:
        path = Path(folder) / ALPHABET_FILE
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, folder) -> Alphabet:
        """The alphabet saved in folder (or the alphabet.json file itself)."""
        path = Path(folder)
        path = path / ALPHABET_FILE if path.is_dir() else path
        try:
            settings = json.loads(path.read_text(encoding="utf-8"))
            chars = settings["chars"]
        except FileNotFoundError:
            raise DataError(f"{path}: no alphabet; a text-conditional model is saved with its "
                            "alphabet.json: retrain or copy it beside the weights") from None
        except (ValueError, KeyError, TypeError) as error:
            raise DataError(f"{path}: unreadable alphabet ({error}); expected {{\"chars\": \"...\"}}") from None
        if not isinstance(chars, str) or settings.get("unknown_code", UNKNOWN_CODE) != UNKNOWN_CODE:
            raise DataError(f"{path}: 'chars' must be a string and unknown_code {UNKNOWN_CODE}")
        return cls(chars)
