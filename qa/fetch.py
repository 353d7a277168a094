"""Fetch a document from the web by its address, before it is stored in the corpus folder."""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass

import httpx

from qa.documents import MAX_FILE_BYTES
from qa.errors import FetchFailed

log = logging.getLogger(__name__)

TIMEOUT = 15.0  # seconds to connect, and to wait for each next piece of the answer
MAX_SECONDS = 120.0  # for the whole download: a server that trickles a byte at a time is not waited on for ever
MAX_REDIRECTS = 5
SCHEMES = ("http", "https")
# What a server may call a document, and the suffix its file gets: the suffix picks the reader
SUFFIX_OF_TYPE = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
    "text/plain": ".txt",
    "text/markdown": ".md",
    "text/x-markdown": ".md",
}
# Servers that do not know what a file is call it one of these: its address's suffix says, if it is a document's
UNTYPED = ("", "application/octet-stream", "binary/octet-stream")
WEB_SUFFIX = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,4}$")  # ".html", ".php", ".aspx"; not "2024" in "report.2024"
USER_AGENT = "eu-japan-qa (adds a document to a question-answering corpus)"


@dataclass(frozen=True)
class Fetched:
    """A document as a server sent it."""

    url: str  # the final address, after redirects: the one cited
    name: str  # a file name for it, with the suffix of its content type (not yet cleaned: see qa.corpus.clean_name)
    data: bytes


def fetch(url: str, *, timeout: float = TIMEOUT, max_bytes: int = MAX_FILE_BYTES, max_seconds: float = MAX_SECONDS,
          transport: httpx.BaseTransport | None = None) -> Fetched:
    """Download the document at url, following up to MAX_REDIRECTS redirects.

    Args:
        url: an http:// or https:// address.
        timeout: seconds to wait for the connection, and for each next piece of the answer.
        max_bytes: the largest document taken; a larger one is refused as soon as that is known.
        max_seconds: the longest the whole download may take.
        transport: what sends the requests (default: httpx's, over the network); tests may pass their own.

    Raises:
        FetchFailed: the address is not a web address, the server cannot be reached, refuses, answers too slowly,
            redirects too often, or sends something that is too large or not a document.
    """
    address = _checked(url)
    with httpx.Client(transport=transport, timeout=timeout, follow_redirects=True, max_redirects=MAX_REDIRECTS,
                      headers={"User-Agent": USER_AGENT}) as client:
        try:
            with client.stream("GET", address) as response:
                return _received(response, address, max_bytes, max_seconds, timeout)
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            raise _failure(error, address, timeout) from error
        except (UnicodeError, OverflowError) as error:  # a host the resolver cannot encode ("a..b"), a redirect's
            # port past 65535: raised by the socket library beneath httpx, not wrapped in its errors
            raise FetchFailed(f"{address} leads to a host or port that cannot be used ({error}); check the "
                              "address") from error


def _failure(error: httpx.HTTPError | httpx.InvalidURL, address: str, timeout: float) -> FetchFailed:
    """What went wrong while fetching address, and what to do about it."""
    host, later = httpx.URL(address).host, "try again later, or download the file and add it by its path"
    if isinstance(error, httpx.TooManyRedirects):
        return FetchFailed(f"{address} redirects more than {MAX_REDIRECTS} times; open it in a browser and give the "
                           "address it finally shows")
    if isinstance(error, (httpx.UnsupportedProtocol, httpx.InvalidURL)):  # a redirect to ftp:, file:, or nonsense
        return FetchFailed(f"{address} redirects to an address that is not http:// or https:// ({error}); "
                           "download the file and add it by its path")
    if isinstance(error, httpx.TimeoutException):  # connecting, or waiting for the answer to begin
        return FetchFailed(f"No answer from {host} within {timeout:g} s; check the address, or try again later")
    if isinstance(error, httpx.ConnectError):
        return FetchFailed(f"Could not connect to {host} ({error}); check the address and the network")
    if isinstance(error, httpx.RemoteProtocolError):
        return FetchFailed(f"{host} closed the connection without a proper answer ({error}); {later}")
    # the rest: a connection reset, a proxy refusing, a body that does not decompress
    return FetchFailed(f"Could not fetch {address} ({error or type(error).__name__}); {later}")


def _checked(url: str) -> str:
    """url, stripped, if it is an http(s) address with a host; else FetchFailed saying what to give instead."""
    given = url.strip()
    try:
        parsed = httpx.URL(given)
    except (httpx.InvalidURL, ValueError) as error:  # ValueError: a host that IDNA cannot encode, a bad port
        raise FetchFailed(f"{given!r} is not a web address ({error}); give one such as "
                          "https://example.org/report.pdf") from error
    if parsed.scheme not in SCHEMES:
        shown = f"{parsed.scheme}://" if parsed.scheme else "an address without http:// or https://"
        raise FetchFailed(f"{given!r}: only http:// and https:// addresses can be fetched, not {shown}; "
                          "for a file on this computer, give its path")
    if not parsed.host:
        raise FetchFailed(f"{given!r} has no host; give one such as https://example.org/report.pdf")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise FetchFailed(f"{given!r}: port {parsed.port} does not exist; ports run from 1 to 65535")
    return given


def _received(response: httpx.Response, address: str, max_bytes: int, max_seconds: float, timeout: float) -> Fetched:
    """The document in response, read piece by piece so that a body over max_bytes is never held whole."""
    final = str(response.url)
    if final != address:
        log.info("%s redirected to %s", address, final)
    if not response.is_success:  # an error, or a redirect without its Location
        raise FetchFailed(f"{response.status_code} {response.reason_phrase} from {final}; check the address "
                          "(open it in a browser)")
    suffix = _suffix(response, final)
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:  # said before the body: refused without reading it
        raise FetchFailed(_too_large(final, max_bytes, int(declared)))
    return Fetched(url=final, name=_name(response.url, suffix), data=_body(response, max_bytes, max_seconds, timeout))


def _body(response: httpx.Response, max_bytes: int, max_seconds: float, timeout: float) -> bytes:
    """response's body, refused as soon as it passes max_bytes, stalls for timeout or takes over max_seconds."""
    deadline = time.monotonic() + max_seconds
    final, later = str(response.url), "try again later, or download the file and add it by its path"
    received: list[bytes] = []
    size = 0
    try:
        for piece in response.iter_bytes():
            size += len(piece)
            if size > max_bytes:
                raise FetchFailed(_too_large(final, max_bytes))
            if time.monotonic() > deadline:
                raise FetchFailed(f"{final} took more than {max_seconds:g} s to download; {later}")
            received.append(piece)
    except httpx.TimeoutException as error:
        raise FetchFailed(f"{final} stopped sending for more than {timeout:g} s; {later}") from error
    return b"".join(received)


def _suffix(response: httpx.Response, final: str) -> str:
    """The file suffix of what response holds, from its Content-Type (or, when that says nothing, its address)."""
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    named = _address_suffix(response.url)
    # many servers send Markdown as plain text
    if named and (content_type in UNTYPED or (content_type, named) == ("text/plain", ".md")):
        return named
    if content_type not in SUFFIX_OF_TYPE:
        kinds = "a web page, PDF, Word (.docx), PowerPoint (.pptx), text or Markdown file"
        raise FetchFailed(f"{content_type or 'An answer without a Content-Type'} is not a document the index can "
                          f"read (from {final}); give the address of {kinds}")
    return SUFFIX_OF_TYPE[content_type]


def _name(url: httpx.URL, suffix: str) -> str:
    """A file name for the document at url: its address's last part ("ip_25_1185"), else its host, and suffix."""
    last = url.path.rstrip("/").rpartition("/")[2]  # httpx has decoded it: "%20" is a space
    stem = WEB_SUFFIX.sub("", last)  # "page.html", "index.php": the suffix comes from the content type
    return (stem or url.host.replace(".", "-")) + suffix


def _address_suffix(url: httpx.URL) -> str:
    """The suffix of the address's last part, lower case, if it is a document's (".pdf"); else ""."""
    suffix = os.path.splitext(url.path.rstrip("/").rpartition("/")[2])[1].lower()
    return suffix if suffix in SUFFIX_OF_TYPE.values() else ""


def _too_large(url: str, max_bytes: int, size: int | None = None) -> str:
    known = f"{size / 1e6:.1f} MB, " if size is not None else ""  # while streaming, only that it is larger
    return (f"{url} is {known}larger than the {max_bytes / 1e6:g} MB limit; split it into smaller documents and "
            "add them by their paths")
