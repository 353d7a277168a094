"""Adding and removing documents from the browser: files land inside the corpus folder, whole, under clean names."""

from __future__ import annotations

import pytest

from qa.corpus import add_file, clean_name, remove_file
from qa.documents import MAX_FILE_BYTES, read_corpus
from qa.errors import UnreadableDocument, UnsupportedFormat

TEXT = b"# Arctic cable\n\nA submarine cable will link Hokkaido and Finland by 2028.\n"


@pytest.mark.parametrize(
    "name, cleaned",
    [
        ("report.md", "report.md"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\evil.md", "evil.md"),
        (".hidden.md", "hidden.md"),
        ("Joint Statement (final).PDF", "Joint-Statement-final.pdf"),
        ("共同声明.html", "document.html"),
        ("Café <script>.txt", "Cafe-script.txt"),
        ("a" * 300 + ".md", "a" * 100 + ".md"),
    ],
)
def test_uploaded_names_are_cleaned(name, cleaned):
    assert clean_name(name) == cleaned


def test_an_added_file_is_stored_inside_the_corpus_and_read(tmp_path):
    corpus = tmp_path / "corpus"

    stored = add_file(corpus, "../../outside/Arctic cable.md", TEXT)

    assert stored == corpus / "Arctic-cable.md" and stored.read_bytes() == TEXT
    assert not (tmp_path / "outside").exists()
    documents, skipped = read_corpus(corpus)
    assert [d.doc_id for d in documents] == ["Arctic-cable.md"] and not skipped


def test_an_existing_document_is_never_overwritten(tmp_path):
    first = add_file(tmp_path, "note.md", TEXT)
    second = add_file(tmp_path, "note.md", TEXT.replace(b"2028", b"2029"))

    assert (first.name, second.name) == ("note.md", "note-2.md")
    assert first.read_bytes() == TEXT


@pytest.mark.parametrize(
    "name, data, error",
    [
        ("tool.exe", b"MZ\x90\x00", UnsupportedFormat),
        ("notes.odt", b"PK\x03\x04", UnsupportedFormat),
        ("notes.docx", b"PK\x03\x04", UnreadableDocument),  # named as Word, but not a Word file
        ("empty.md", b"", UnreadableDocument),
        ("binary.txt", bytes(range(256)) * 8, UnreadableDocument),
        ("broken.pdf", b"%PDF-1.4\nnot a pdf\n%%EOF\n", UnreadableDocument),
        ("huge.txt", b"x" * (MAX_FILE_BYTES + 1), UnreadableDocument),
    ],
)
def test_a_file_the_index_cannot_read_is_refused_and_nothing_is_left(tmp_path, name, data, error):
    with pytest.raises(error, match=name.split(".")[0]):
        add_file(tmp_path, name, data)

    assert list(tmp_path.iterdir()) == []  # not even a hidden draft


def test_remove_deletes_a_document_of_the_corpus(tmp_path):
    stored = add_file(tmp_path, "note.md", TEXT)

    remove_file(tmp_path, "note.md")

    assert not stored.exists()


@pytest.mark.parametrize("doc_id", ["../secret.md", "/etc/hostname", "missing.md", "."])
def test_remove_never_touches_anything_outside_the_corpus(tmp_path, doc_id):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (tmp_path / "secret.md").write_bytes(TEXT)

    with pytest.raises(FileNotFoundError):
        remove_file(corpus, doc_id)

    assert (tmp_path / "secret.md").exists()
