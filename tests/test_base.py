"""model.base's shared ways: how a path is named in public, how a file is written whole or not
at all (a full disk simulated by an ENOSPC raised from the write itself: no root, no tmpfs), and
the one lock of the house."""
import argparse
import errno
import os

import pytest

from model.base import SEED_MAX, UserError, locked, ranged, replacing, run_cli, seed_argument, shown_name, write_file


@pytest.mark.parametrize("parse, text, message", [
    (seed_argument, "-3", f"-3: must be from 0 to {SEED_MAX}"),  # every digit, as it is typed
    (ranged(float, 0, 10), "nan", "nan: must be from 0 to 10"),
    (ranged(float, 0.5), "0.25", "0.25: must be at least 0.5"),
    (ranged(int, 1), "1.5", "'1.5' is not a whole number"),
])
def test_a_number_out_of_range_is_refused_with_its_bounds(parse, text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=f"^{message}$"):
        parse(text)


@pytest.mark.parametrize("source, shown", [
    ("distill", "distill"), ("synthetic:16", "synthetic:16"), ("synthetic:300:chars=3-12", "synthetic:300:chars=3-12"),
    ("/home/me/my lines", "my lines"), ("/home/me/lines/", "lines"), ("./lines", "lines"), ("lines/", "lines"),
    ("~/hand writing/My Lines", "My Lines"), ("~", "~"),
    ("C:\\Users\\Me\\My Lines", "My Lines"), ("D:/data/lines", "lines"),
    ("model.train on /home/me/my lines", "model.train on my lines"),
    ("model.train on C:\\Program Files\\lines 2", "model.train on lines 2"),
])
def test_a_shown_name_is_the_last_part_of_any_path(source, shown):
    assert shown_name(source) == shown


def test_a_local_path_with_spaces_is_named_by_its_last_part_whole(tmp_path, monkeypatch):
    (tmp_path / "my data" / "the lines").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert shown_name("my data/the lines") == "the lines"
    assert shown_name(".") == tmp_path.name


def full_disk(monkeypatch, after: int = 0):
    """Every write to a temporary `.partial` file fails with ENOSPC once `after` bytes are written."""
    written = {"bytes": 0}

    class FullFile:
        def __init__(self, file):
            self.file = file

        def write(self, data):
            if written["bytes"] + len(data) > after:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            written["bytes"] += len(data)
            return self.file.write(data)

        def __getattr__(self, name):
            return getattr(self.file, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self.file.__exit__(*exc)

    real_open = open

    def opening(path, mode="r", *args, **kwargs):
        file = real_open(path, mode, *args, **kwargs)
        return FullFile(file) if "w" in mode and str(path).endswith(".partial") else file

    monkeypatch.setattr("builtins.open", opening)


def test_a_full_disk_keeps_the_old_file_and_names_it_in_one_line(tmp_path, monkeypatch):
    target = tmp_path / "metrics.json"
    target.write_text("the good old file")
    full_disk(monkeypatch, after=3)
    with pytest.raises(UserError) as caught:
        write_file(target, "a new file, longer than the disk has room for")
    message = str(caught.value)
    assert "\n" not in message and str(target) in message and "No space left" in message and "kept" in message
    assert "free some space" in message
    assert target.read_text() == "the good old file"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["metrics.json"]  # no 0-byte or partial file


def test_missing_folders_are_made_and_a_file_in_the_way_is_named(tmp_path):
    write_file(tmp_path / "new folder" / "inside" / "x.svg", "<svg/>")
    assert (tmp_path / "new folder" / "inside" / "x.svg").read_text() == "<svg/>"
    (tmp_path / "notes.txt").write_text("years of work")
    with pytest.raises(UserError) as caught:  # was NotADirectoryError, naming a temporary file
        write_file(tmp_path / "notes.txt" / "x.svg", "<svg/>")
    assert str(caught.value) == (f"{tmp_path / 'notes.txt' / 'x.svg'}: cannot write ({tmp_path / 'notes.txt'} is a "
                                 "file, not a folder); nothing was written: choose another place, then run the "
                                 "command again")
    assert (tmp_path / "notes.txt").read_text() == "years of work"


def test_a_full_disk_leaves_no_new_file(tmp_path, monkeypatch):
    full_disk(monkeypatch)
    with pytest.raises(UserError, match="nothing was written"):
        write_file(tmp_path / "new.svg", "<svg/>")
    with pytest.raises(UserError, match="nothing was written"):  # nor the folders made for it
        write_file(tmp_path / "new folder" / "inside" / "new.svg", "<svg/>")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_is_replaced_whole_or_not_at_all(tmp_path):
    folder = tmp_path / "published"
    folder.mkdir()
    (folder / "old.json").write_text("old")
    with pytest.raises(RuntimeError), replacing(folder) as building:
        building.mkdir()
        (building / "new.json").write_text("new")
        raise RuntimeError("killed half way")
    assert [path.name for path in tmp_path.iterdir()] == ["published"]
    assert [path.name for path in folder.iterdir()] == ["old.json"]
    with replacing(folder) as building:
        building.mkdir()
        (building / "new.json").write_text("new")
    assert [path.name for path in tmp_path.iterdir()] == ["published"]
    assert [path.name for path in folder.iterdir()] == ["new.json"]


def test_one_holder_of_a_lock_at_a_time(tmp_path):
    with locked(tmp_path / "runs", "busy: wait for it"):
        with pytest.raises(UserError, match=r"^busy: wait for it$"), locked(tmp_path / "runs", "busy: wait for it"):
            pass
    with locked(tmp_path / "runs", "busy"):  # released at the end of the block
        pass


def test_a_lock_where_nothing_can_be_written_is_one_line(tmp_path):
    (tmp_path / "a file").write_text("not a folder")
    with pytest.raises(UserError) as caught, locked(tmp_path / "a file" / "runs", "busy"):
        pass
    assert str(caught.value) == (f"{tmp_path / 'a file' / 'runs'}: cannot write ({tmp_path / 'a file'} is a "
                                 "file, not a folder); nothing was written: choose another place, then run the "
                                 "command again")


def test_a_lock_that_cannot_be_taken_leaves_no_folder_made_for_it(tmp_path, monkeypatch):
    def full_disk_open(path, mode):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("model.base.open", full_disk_open, raising=False)
    with pytest.raises(UserError, match=r"No space left on device\); nothing was written: free some space"), \
            locked(tmp_path / "new folder" / "runs", "busy"):
        pass
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("error, said", [
    (PermissionError(errno.EACCES, os.strerror(errno.EACCES), "/srv/my lines.json"),
     "error: /srv/my lines.json: Permission denied\n"),
    (OSError("Unable to synchronously open file (file read failed: time = Mon Dec  7 17:40:02 2026\n,"
             " filename = 'x.h5', file descriptor = 5)"),
     "error: Unable to synchronously open file (file read failed: time = Mon Dec 7 17:40:02 2026 , filename = "
     "'x.h5', file descriptor = 5)\n"),
])
def test_a_file_error_no_one_foresaw_still_ends_in_one_line(error, said, capsys):
    def command():
        raise error

    assert run_cli(command) == 2
    assert capsys.readouterr().err == said
