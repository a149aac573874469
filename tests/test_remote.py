"""Tests for model/remote.py: the article's files found locally, or fetched with a sha256 pin.

No test touches the network: downloads go to file:// URLs in tmp_path or to a stand-in for
keras.utils.get_file that records how it was called.
"""
import hashlib

import pytest

from model import remote
from model.base import DataError

tf_keras = pytest.importorskip("tf_keras")


@pytest.fixture
def no_local_copy(tmp_path, monkeypatch):
    """An empty HANDWRITING_DISTILL folder and a Keras cache inside tmp_path, downloads allowed
    (to the stand-ins of these tests) even where the suite runs with HANDWRITING_OFFLINE set."""
    monkeypatch.delenv(remote.OFFLINE_ENV, raising=False)
    monkeypatch.setenv("HANDWRITING_DISTILL", str(tmp_path / "distill"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "distill").mkdir()
    (tmp_path / "home" / ".keras").mkdir(parents=True)  # else get_file falls back to /tmp/.keras
    return tmp_path / "distill"


def test_pins_cover_the_article_files():
    assert len(remote.LINE_NAMES) == 145 and remote.LINE_NAMES[43] == "validation-data/44.json"
    assert remote.url("b64_weights.json") == (
        "https://raw.githubusercontent.com/distillpub/post--handwriting/master/public/assets/model/b64_weights.json")
    assert remote.url("validation-data/7.json").endswith("post--handwriting/master/validation-data/7.json")


def test_local_copy_is_used_when_its_hash_matches(distill, monkeypatch):
    monkeypatch.setattr(tf_keras.utils, "get_file", lambda *args, **kwargs: pytest.fail("downloaded"))
    for name in ["b64_weights.json", "metadata.json", *remote.LINE_NAMES]:
        assert remote.fetch(name) == distill / name


def test_get_file_is_called_with_the_pinned_hash(no_local_copy, monkeypatch):
    calls = []
    monkeypatch.setattr(tf_keras.utils, "get_file", lambda **kwargs: calls.append(kwargs) or "/cache/x.json")
    assert str(remote.fetch("validation-data/3.json")) == "/cache/x.json"
    assert calls == [{"fname": "validation-data-3.json", "origin": remote.url("validation-data/3.json"),
                      "file_hash": remote.SHA256["validation-data/3.json"], "cache_subdir": "handwriting"}]


def test_download_through_real_get_file_checks_the_pin(no_local_copy, tmp_path, monkeypatch):
    published = tmp_path / "repository" / "public" / "assets"
    published.mkdir(parents=True)
    content = b'{"sortOrder": [0]}'
    (published / "metadata.json").write_bytes(content)
    monkeypatch.setattr(remote, "BASE_URL", (tmp_path / "repository").as_uri() + "/")
    monkeypatch.setitem(remote.SHA256, "metadata.json", hashlib.sha256(content).hexdigest())
    fetched = remote.fetch("metadata.json")
    assert fetched == tmp_path / "home" / ".keras" / "handwriting" / "metadata.json"
    assert fetched.read_bytes() == content
    (published / "metadata.json").write_bytes(b"tampered")
    fetched.unlink()
    with pytest.raises(DataError) as excinfo:
        remote.fetch("metadata.json")
    message = str(excinfo.value)
    assert "\n" not in message and "metadata.json: there is no local copy" in message
    assert "fetching file://" in message and "HANDWRITING_DISTILL" in message


def test_hash_mismatch_of_the_local_copy_is_named_when_download_fails(no_local_copy, monkeypatch):
    (no_local_copy / "b64_weights.json").write_text("[]")

    def offline(**kwargs):
        raise Exception(f"URL fetch failure on {kwargs['origin']}: None -- [Errno -3]\nTemporary failure")

    monkeypatch.setattr(tf_keras.utils, "get_file", offline)
    with pytest.raises(DataError) as excinfo:
        remote.fetch("b64_weights.json")
    message = str(excinfo.value)
    assert "\n" not in message
    local_copy = no_local_copy / "b64_weights.json"
    assert f"the local copy {local_copy} has sha256 {hashlib.sha256(b'[]').hexdigest()[:12]}" in message
    assert f"instead of {remote.SHA256['b64_weights.json'][:12]}" in message
    assert "URL fetch failure" in message


def test_unknown_name():
    with pytest.raises(DataError, match=r"golden-public\.json: not one of the original article's files"):
        remote.fetch("golden-public.json")


def test_offline_switch_refuses_every_download_in_one_line(no_local_copy, monkeypatch):
    monkeypatch.setenv(remote.OFFLINE_ENV, "1")
    monkeypatch.setattr(tf_keras.utils, "get_file", lambda *args, **kwargs: pytest.fail("downloaded"))
    for name in ["b64_weights.json", "validation-data/3.json"]:
        with pytest.raises(DataError, match="downloads are off") as error:
            remote.fetch(name)
        assert "\n" not in str(error.value) and remote.OFFLINE_ENV in str(error.value)
