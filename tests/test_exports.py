"""qa.exports: an export made once per installation, whole or not at all, checked before each use. The real
multilingual export goes through it in every build (tests/test_multilingual.py, tests/test_japanese.py); here the
making is a small function, as what is tested is the keeping."""

from __future__ import annotations

import logging
import threading

import pytest

from qa import exports, multilingual

FILES = ("graph.bin", "vocabulary.json")


class Maker:
    """Writes FILES and returns a record, counting its calls; fails on demand."""

    def __init__(self, fail: Exception | None = None):
        self.calls, self.fail = 0, fail

    def __call__(self, folder):
        self.calls += 1
        (folder / FILES[0]).write_bytes(b"\x00\x01" * 1000)
        if self.fail:
            raise self.fail
        (folder / FILES[1]).write_text('{"a": 1}')
        return {"model": "m", "export": 1}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_an_export_is_made_once_and_then_taken_from_the_cache(cache):
    make = Maker()
    first = exports.kept("thing", "k1", FILES, make)
    second = exports.kept("thing", "k1", FILES, make)

    assert make.calls == 1
    assert first == second == (cache / "thing-k1", {"model": "m", "export": 1})
    assert sorted(p.name for p in cache.iterdir()) == ["thing-k1"]  # no staging folder left behind
    assert exports.kept("thing", "k2", FILES, make)[0] == cache / "thing-k2" and make.calls == 2  # another key


@pytest.mark.parametrize("damage", ["changed", "removed", "entry"])
def test_a_damaged_entry_is_made_again(cache, damage):
    make = Maker()
    folder, _ = exports.kept("thing", "k", FILES, make)
    if damage == "changed":
        (folder / FILES[0]).write_bytes(b"\x00\x02" * 1000)
    elif damage == "removed":
        (folder / FILES[1]).unlink()
    else:
        (folder / exports.ENTRY).write_text("{")

    again, record = exports.kept("thing", "k", FILES, make)

    assert make.calls == 2 and again == folder and record == {"model": "m", "export": 1}
    assert (folder / FILES[0]).read_bytes() == b"\x00\x01" * 1000


def test_a_failed_export_leaves_nothing_in_the_cache(cache):
    with pytest.raises(RuntimeError, match="no torch"):
        exports.kept("thing", "k", FILES, Maker(fail=RuntimeError("no torch")))

    assert list(cache.iterdir()) == []
    assert exports.kept("thing", "k", FILES, Maker())[1] == {"model": "m", "export": 1}


def test_an_unwritable_cache_exports_for_the_process_with_a_warning(tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("QA_CACHE_DIR", str(blocker / "cache"))  # cannot be made: its parent is a file
    make = Maker()

    with caplog.at_level(logging.WARNING, logger="qa.exports"):
        folder, record = exports.kept("thing", "k", FILES, make)

    assert record == {"model": "m", "export": 1} and (folder / FILES[1]).is_file()
    assert "QA_CACHE_DIR" in caplog.text


def test_threads_asking_at_once_make_it_once(cache):
    make = Maker()
    results = []
    threads = [threading.Thread(target=lambda: results.append(exports.kept("thing", "k", FILES, make)))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert make.calls == 1 and len(set(map(str, results))) == 1


def test_the_key_changes_with_the_record_and_the_libraries():
    record = multilingual.record()
    key = exports.key_of(record, multilingual.LIBRARIES)

    assert key == exports.key_of(dict(record), multilingual.LIBRARIES)
    assert key != exports.key_of(record | {"export": record["export"] + 1}, multilingual.LIBRARIES)
    assert key != exports.key_of(record, (*multilingual.LIBRARIES, "numpy"))


def test_the_multilingual_export_is_kept_for_the_installation():
    folder, record = multilingual.exported()

    assert folder.parent == exports.config.cache_dir()
    assert record == multilingual.record()
    assert exports._whole(folder, multilingual.FILES) == record
