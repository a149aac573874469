"""The alphabet a text-conditional model reads: codes, the placeholder, saving with a model."""
import json

import numpy as np
import pytest

from model.alphabet import ALPHABET_FILE, UNKNOWN_CODE, Alphabet
from model.base import DataError
from model.corpus import SynthConfig, _line_text, _words


def test_codes_round_trip_and_unknown_characters_share_the_placeholder():
    alphabet = Alphabet("ab ")
    assert alphabet.size == 4
    assert alphabet.encode("ba b").tolist() == [2, 1, 3, 2]
    assert alphabet.encode("aüb€").tolist() == [1, UNKNOWN_CODE, 2, UNKNOWN_CODE]
    assert alphabet.unknown("aüb€ü") == ["ü", "€", "ü"]
    assert alphabet.decode(alphabet.encode("a b")) == "a b"
    assert alphabet.decode([0]) == "\ufffd"
    assert alphabet.encode("").dtype.name == "int32"


def test_default_covers_the_synthetic_corpus_and_iam_punctuation():
    alphabet = Alphabet.default()
    rng = np.random.default_rng(0)
    texts = " ".join(_words()) + " ".join(" ".join(_line_text(SynthConfig(), rng)) for _ in range(200))
    assert alphabet.unknown(texts) == []
    assert alphabet.unknown("A01, \"quoted\" (x) & y-z; what?!") == []


def test_save_and_load(tmp_path):
    Alphabet("xyz.").save(tmp_path)
    assert Alphabet.load(tmp_path) == Alphabet("xyz.")
    assert Alphabet.load(tmp_path / ALPHABET_FILE).chars == "xyz."
    (tmp_path / ALPHABET_FILE).write_text(json.dumps({"letters": "x"}))
    with pytest.raises(DataError, match="unreadable alphabet"):
        Alphabet.load(tmp_path)
    with pytest.raises(DataError, match="no alphabet"):
        Alphabet.load(tmp_path / "missing")
    with pytest.raises(DataError, match="twice"):
        Alphabet("aa")
