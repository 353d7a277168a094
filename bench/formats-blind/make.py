"""Render the benchmark corpus the way *other producers* make documents.

Run from the repository root:

    .venv/bin/python bench/formats-blind/make.py            # everything
    .venv/bin/python bench/formats-blind/make.py chromium-print scan-150dpi

Reads the five English sources ``corpus/*.md`` and the two Japanese sources
``bench/japanese/corpus/*.md`` (YAML header + plain body) and writes, under
``bench/formats-blind/``:

  chromium-print/     HTML -> PDF by headless Chromium, with Chromium's own
                      print header/footer (date, title / URL, "1/3").
  writer-odt-pdf/     hand-written ODT (two-column page style for three of the
                      documents, indent-only paragraphs, running header, page
                      number "– 3 –", hyphenation, justified 10 pt serif,
                      numbered headings) -> PDF by LibreOffice Writer.
  impress-pdf/        python-pptx deck on a blank layout with hand-placed text
                      boxes, a footer box and slide numbers (partner table as a
                      real table) -> PDF by LibreOffice Impress.
  scan-150dpi/        image-only PDFs of writer-odt-pdf (150 dpi grey, rotated
                      1 degree, slight blur, JPEG q50); no text layer.
  japanese-chromium/  the Japanese sources, HTML (lang="ja", Noto Sans CJK JP)
                      -> PDF by headless Chromium with header/footer.

Tools needed
  * Python (the project .venv): PyYAML, python-pptx, Pillow, pymupdf (fitz)
  * chromium            (Debian package ``chromium``; headless --print-to-pdf)
  * libreoffice         (``libreoffice-writer``, ``libreoffice-impress``; soffice)
  * hyphen-en-us        (Writer hyphenation patterns for en-US)
  * poppler-utils       (pdftoppm for the scans, pdftotext for the checks)
  * fonts: fonts-noto-cjk (Noto Sans/Serif CJK JP), fonts-liberation2,
    fonts-dejavu-core
"""

from __future__ import annotations

import datetime as _dt
import html
import http.server
import io
import os
import re
import shutil
import socketserver
import subprocess
import sys
import tempfile
import threading
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape as xesc

import yaml

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
EN_SOURCES = sorted((ROOT / "corpus").glob("*.md"))
JA_SOURCES = sorted((ROOT / "bench" / "japanese" / "corpus").glob("*.md"))
DECK_STEMS = ["2025-10-15-digital-agency-future-prospects",
              "2024-05-01-second-digital-partnership-council"]
TWO_COLUMN_STEMS = {"2022-05-12-eu-japan-summit-digital-partnership",
                    "2023-07-14-japan-times-eu-japan-summit",
                    "2025-05-12-third-digital-partnership-council"}


def sources():
    return EN_SOURCES + JA_SOURCES


# ---------------------------------------------------------------------------
# Reading the sources
# ---------------------------------------------------------------------------

MONTHS = "January February March April May June July August September October November December".split()
DATE_LINE = re.compile(
    r"^(Published on |Updated |)(\d{1,2} (%s),? \d{4}|(%s) \d{1,2}, \d{4}|\d{4}年\d{1,2}月\d{1,2}日)$"
    % ("|".join(MONTHS), "|".join(MONTHS)))
# Short lines that are labels or logo text rather than headings.
NOT_HEADINGS = {"DIGITALEUROPE", "JEITA", "METI", "Digital Agency", "Japan", "Business",
                "Council in", "Europe", "Source:", "Prime Minister's Office Website",
                "Ministry of Economy, Trade and Industry", "デジタル庁",
                "Figure: PoC Interoperability Mechanism",
                "EU : The fund of Horizon Europe Framework Programme (HORIZON)",
                "(※) Japan : Beyond 5G R&D Fund"}


def read_source(path: Path):
    text = path.read_text(encoding="utf-8")
    m = re.match(r"^---\n(.*?)\n---\n", text, re.S)
    meta = yaml.safe_load(m.group(1))
    body = text[m.end():]
    return meta, body


def is_heading_like(line: str, lang: str) -> bool:
    s = line.strip()
    if not s or s in NOT_HEADINGS or DATE_LINE.match(s):
        return False
    if lang == "ja" or " : " in s or s.startswith("IKEDA "):
        return False          # Japanese sources mark headings with '#'
    if s[-1] in ".,;:!?”\"" or len(s) > 95 or len(s) < 8:
        return s in ("Background",)
    if not (s[0].isupper() or s[0].isdigit()):
        return False
    words = s.split()
    return 1 <= len(words) <= 16


def parse(path: Path):
    """Return {'meta', 'stem', 'blocks'}; blocks are tuples:
    ('title', text) ('date', text) ('h', text, level) ('p', text)
    ('li', text, level, marker) ('table', rows)
    A 'p' text may contain '\\n' for a soft line break.
    """
    meta, body = read_source(path)
    lang = meta.get("language", "en")
    lines = body.split("\n")
    blocks = []
    i = 0
    list_base = None
    para: list[str] = []

    def flush_para():
        if para:
            blocks.append(("p", "\n".join(para)))
            para.clear()

    while i < len(lines):
        raw = lines[i].rstrip()
        s = raw.strip()
        if not s:
            flush_para()
            list_base = None
            i += 1
            continue
        if s == "---":                          # stray rule left from the header
            flush_para()
            i += 1
            continue
        if "\t" in raw or s.startswith("|"):     # tables
            flush_para()
            rows = []
            while i < len(lines) and lines[i].strip() and ("\t" in lines[i] or lines[i].strip().startswith("|")):
                r = lines[i].rstrip("\n")
                if r.strip().startswith("|"):
                    cells = [c.strip() for c in r.strip().strip("|").split("|")]
                    if all(re.fullmatch(r":?-{3,}:?", c) for c in cells):
                        i += 1
                        continue
                else:
                    cells = [c.strip() for c in r.split("\t")]
                rows.append(cells)
                i += 1
            blocks.append(("table", rows))
            continue
        mh = re.match(r"^(#{1,6})\s+(.*)$", s)
        if mh:
            flush_para()
            blocks.append(("h", mh.group(2).strip(), len(mh.group(1))))
            i += 1
            continue
        ml = re.match(r"^(\s*)(- |\* |(\d+)\. )(.*)$", raw)
        if ml and ml.group(4).strip():
            flush_para()
            indent = len(ml.group(1))
            if list_base is None:
                list_base = indent
            level = 0 if indent <= list_base else 1
            marker = "bullet" if ml.group(3) is None else ml.group(3) + "."
            blocks.append(("li", ml.group(4).strip(), level, marker))
            i += 1
            continue
        list_base = None
        if DATE_LINE.match(s):
            flush_para()
            blocks.append(("date", s))
        elif is_heading_like(s, lang):
            flush_para()
            blocks.append(("h", s, 2))
        else:
            # keep very short label lines together (logo text, "Source:\nName");
            # every long line is a paragraph of its own
            if para and (len(para[-1]) > 60 or len(s) > 60):
                flush_para()
            para.append(s)
        i += 1
    flush_para()

    # The document title: reuse the body's first line when it is the title.
    title = str(meta["title"]).strip()
    for k, b in enumerate(blocks):
        if b[0] in ("h", "p") and b[1].replace("\n", " ").strip() == title:
            blocks[k] = ("title", title)
            break
    else:
        blocks.insert(0, ("title", title))
    # Headings inside the body: '#' level 1 in the Japanese files is the title.
    blocks = [("title", b[1]) if b[0] == "h" and b[2] == 1 and b[1] == title else b for b in blocks]
    return {"meta": meta, "stem": path.stem, "blocks": blocks, "lang": lang}


def inline_runs(text: str):
    """Split **bold** markup into [(text, bold)]; unmatched markers are dropped."""
    runs, bold = [], False
    for k, part in enumerate(text.split("**")):
        if k:
            bold = not bold
        if part:
            runs.append((part, bold))
    # an odd number of markers: nothing was really opened; show it plain
    if text.count("**") % 2:
        runs = [(t, False) for t, _ in runs]
    return runs


def plain(text: str) -> str:
    return text.replace("**", "")


def pretty_date(meta) -> str:
    d = _dt.date.fromisoformat(str(meta["date"]))
    if meta.get("language") == "ja":
        return f"{d.year}年{d.month}月{d.day}日"
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({r.returncode}): {r.stderr[-2000:]}")
    return r


# ---------------------------------------------------------------------------
# 1 + 5: HTML pages printed by headless Chromium (with its header/footer)
# ---------------------------------------------------------------------------

CSS_EN = """
@page { size: A5; }
html { font-size: 15px; }
body { font-family: %(font)s; line-height: 1.45; color: #1a1a1a; margin: 0; }
header.site { border-bottom: 3px solid %(accent)s; padding-bottom: .3em; margin-bottom: 1em;
              font: 600 12px/1.2 'Liberation Sans', Arial, sans-serif; color: %(accent)s;
              text-transform: uppercase; letter-spacing: .06em; }
h1 { font-size: 1.55rem; line-height: 1.2; margin: .2em 0 .4em; }
h2 { font-size: 1.12rem; margin: 1.1em 0 .35em; color: %(accent)s; }
h3 { font-size: 1rem; margin: 1em 0 .3em; }
p.dateline { font: 13px 'Liberation Sans', Arial, sans-serif; color: #555; margin: 0 0 1.2em; }
p { margin: 0 0 .75em; }
ul, ol { margin: 0 0 .8em; padding-left: 1.4em; }
li { margin: 0 0 .3em; }
table { border-collapse: collapse; width: 100%%; font-size: .82rem; margin: .6em 0 1em; }
th, td { border: 1px solid #999; padding: .3em .4em; vertical-align: top; text-align: left; }
th { background: #e8eef5; }
tr { break-inside: avoid; }
footer.site { margin-top: 2em; border-top: 1px solid #ccc; padding-top: .4em;
              font: 11px 'Liberation Sans', Arial, sans-serif; color: #666; }
"""

CSS_JA = """
@page { size: A5; }
html { font-size: 14px; }
body { font-family: 'Noto Sans CJK JP', 'Noto Sans JP', sans-serif; line-height: 1.75; color: #222; margin: 0; }
header.site { border-bottom: 3px solid %(accent)s; padding-bottom: .3em; margin-bottom: 1em;
              font-size: 12px; color: %(accent)s; font-weight: 700; }
h1 { font-size: 1.45rem; line-height: 1.4; margin: .2em 0 .4em; }
h2 { font-size: 1.1rem; margin: 1.1em 0 .35em; border-left: 5px solid %(accent)s; padding-left: .4em; }
h3 { font-size: 1rem; margin: 1em 0 .3em; }
p.dateline { font-size: 12px; color: #555; margin: 0 0 1.2em; }
p { margin: 0 0 .75em; text-indent: 1em; }
ul, ol { margin: 0 0 .8em; padding-left: 1.6em; }
li { margin: 0 0 .25em; }
table { border-collapse: collapse; width: 100%%; font-size: .85rem; margin: .6em 0 1em; }
th, td { border: 1px solid #999; padding: .3em .4em; vertical-align: top; text-align: left; }
th { background: #eef3ea; }
th:first-child, td:first-child { white-space: nowrap; }
tr { break-inside: avoid; }
footer.site { margin-top: 2em; border-top: 1px solid #ccc; padding-top: .4em; font-size: 11px; color: #666; }
"""

SITE_STYLE = {   # publisher prefix -> (site banner, font stack, accent colour)
    "European Commission": ("European Commission", "'Liberation Sans', Arial, sans-serif", "#004494"),
    "The Japan Times": ("The Japan Times", "'Liberation Serif', 'Times New Roman', serif", "#8b0000"),
    "Digital Agency": ("Digital Agency", "'DejaVu Sans', Verdana, sans-serif", "#1d6b3a"),
    "外務省": ("外務省 Ministry of Foreign Affairs of Japan", "", "#1f3f7a"),
    "デジタル庁": ("デジタル庁 Digital Agency", "", "#1d6b3a"),
}


def site_style(meta):
    pub = str(meta["publisher"])
    for k, v in SITE_STYLE.items():
        if pub.startswith(k):
            return v
    return (pub, "'Liberation Sans', sans-serif", "#333333")


def html_inline(text: str) -> str:
    out = []
    for t, bold in inline_runs(text):
        t = html.escape(t)
        out.append(f"<strong>{t}</strong>" if bold else t)
    return "".join(out).replace("\n", "<br>\n")


def html_page(doc) -> str:
    meta, ja = doc["meta"], doc["lang"] == "ja"
    banner, font, accent = site_style(meta)
    css = (CSS_JA % {"accent": accent}) if ja else (CSS_EN % {"font": font, "accent": accent})
    title = str(meta["title"])
    parts = [f"<!DOCTYPE html>\n<html lang=\"{'ja' if ja else 'en'}\">\n<head>\n<meta charset=\"utf-8\">",
             f"<title>{html.escape(title)}</title>",
             f"<meta name=\"author\" content=\"{html.escape(str(meta['publisher']))}\">",
             f"<meta name=\"date\" content=\"{meta['date']}\">",
             f"<style>{css}</style>\n</head>\n<body>",
             f"<header class=\"site\">{html.escape(banner)}</header>\n<article>"]
    have_date = any(b[0] == "date" for b in doc["blocks"])
    open_list = []          # stack of 'ul'/'ol'

    def close_lists(level=-1):
        while len(open_list) > level + 1:
            parts.append(f"</li></{open_list.pop()}>")

    for b in doc["blocks"]:
        kind = b[0]
        if kind != "li":
            close_lists()
        if kind == "title":
            parts.append(f"<h1>{html_inline(b[1])}</h1>")
            if not have_date:
                by = "" if ja else f" | {html.escape(str(meta['publisher']))}"
                parts.append(f"<p class=\"dateline\"><time datetime=\"{meta['date']}\">"
                             f"{pretty_date(meta)}</time>{by}</p>")
        elif kind == "date":
            parts.append(f"<p class=\"dateline\"><time datetime=\"{meta['date']}\">{html.escape(b[1])}</time></p>")
        elif kind == "h":
            lv = min(max(b[2], 2), 3)
            parts.append(f"<h{lv}>{html_inline(b[1])}</h{lv}>")
        elif kind == "p":
            parts.append(f"<p>{html_inline(b[1])}</p>")
        elif kind == "li":
            text, level, marker = b[1], b[2], b[3]
            tag = "ul" if marker == "bullet" else "ol"
            if len(open_list) > level + 1:
                close_lists(level)
                parts.append("</li>")
            elif len(open_list) == level + 1:
                parts.append("</li>")
            while len(open_list) < level + 1:
                start = "" if tag == "ul" or marker == "1." else f" start=\"{marker[:-1]}\""
                parts.append(f"<{tag}{start}>")
                open_list.append(tag)
            parts.append(f"<li>{html_inline(text)}")
        elif kind == "table":
            rows = b[1]
            parts.append("<table>\n<thead><tr>" + "".join(f"<th>{html_inline(c)}</th>" for c in rows[0])
                         + "</tr></thead>\n<tbody>")
            for r in rows[1:]:
                parts.append("<tr>" + "".join(f"<td>{html_inline(c)}</td>" for c in r) + "</tr>")
            parts.append("</tbody></table>")
    close_lists()
    parts.append("</article>")
    parts.append(f"<footer class=\"site\">© {html.escape(str(meta['publisher']))}</footer>")
    parts.append("</body>\n</html>\n")
    return "\n".join(parts)


HTML_DIR = Path(tempfile.gettempdir()) / "formats-blind-html"   # fixed: shows in file:// footers
TLS_PORT = 8766


class _Pages(http.server.BaseHTTPRequestHandler):
    pages: dict = {}

    def do_GET(self):
        body = self.pages.get(self.path.split("?")[0])
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        data = body.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *a):
        pass


def _tls_server(tmp: Path):
    """A local HTTPS server so that Chromium's footer shows the page's real URL."""
    import ssl
    key, crt = tmp / "k.pem", tmp / "c.pem"
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(crt), "-days", "2", "-subj", "/CN=localhost"])
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", TLS_PORT), _Pages)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(crt), str(key))
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


CHROMIUM = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"]


def chromium_print(docs, outdir: Path):
    """Print each doc to PDF. Docs with a 'url' are served over HTTPS under that
    URL (host mapped to localhost), the others are opened from file://."""
    outdir.mkdir(parents=True, exist_ok=True)
    HTML_DIR.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="fb-chrome-"))
    srv = None
    try:
        for doc in docs:
            page = html_page(doc)
            url = doc["meta"].get("url")
            args = []
            if url:
                from urllib.parse import urlsplit
                u = urlsplit(url)
                if srv is None:
                    srv = _tls_server(tmp)
                _Pages.pages[u.path or "/"] = page
                args = ["--ignore-certificate-errors",
                        f"--host-resolver-rules=MAP {u.hostname} 127.0.0.1:{TLS_PORT}"]
                target = url
            else:
                f = HTML_DIR / f"{doc['stem']}.html"
                f.write_text(page, encoding="utf-8")
                target = f.as_uri()
            out = outdir / f"{doc['stem']}.pdf"
            out.unlink(missing_ok=True)
            run(CHROMIUM + args + [f"--user-data-dir={tmp / 'profile'}", f"--print-to-pdf={out}", target],
                timeout=180)
            set_pdf_metadata(out, doc["meta"], creator="Chromium")
            print("  ", out.relative_to(ROOT))
    finally:
        if srv:
            srv.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


def set_pdf_metadata(pdf: Path, meta, creator=None, keep=False):
    """Chromium writes only Title/Creator/Producer; add Author and the document
    date (as a print driver that knows the page's metadata would)."""
    import fitz
    d = _dt.date.fromisoformat(str(meta["date"]))
    doc = fitz.open(pdf)
    md = dict(doc.metadata or {})
    md["title"] = str(meta["title"])
    md["author"] = str(meta["publisher"])
    md["creationDate"] = f"D:{d:%Y%m%d}090000Z"
    md["modDate"] = md["creationDate"]
    if creator:
        md["creator"] = creator
    doc.set_metadata({k: v for k, v in md.items() if k in
                      ("title", "author", "subject", "keywords", "creator", "producer", "creationDate", "modDate")})
    data = doc.tobytes(garbage=3, deflate=True)
    doc.close()
    pdf.write_bytes(data)


# ---------------------------------------------------------------------------
# 2: Writer documents (ODT written directly) exported to PDF by LibreOffice
# ---------------------------------------------------------------------------

ODF_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
          'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
          'xmlns:dc="http://purl.org/dc/elements/1.1/" '
          'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
          'xmlns:xlink="http://www.w3.org/1999/xlink" office:version="1.3"')

SERIF = "Liberation Serif"
SANS = "Liberation Sans"


def odt_styles(two_columns: bool) -> str:
    cols = ('<style:columns fo:column-count="2" fo:column-gap="0.6cm">'
            '<style:column-sep style:width="0.02cm" style:color="#808080" style:height="100%" style:vertical-align="top"/>'
            '<style:column style:rel-width="32767*" fo:start-indent="0cm" fo:end-indent="0.3cm"/>'
            '<style:column style:rel-width="32768*" fo:start-indent="0.3cm" fo:end-indent="0cm"/>'
            '</style:columns>') if two_columns else ""
    lang = 'fo:language="en" fo:country="US"'
    hyph = ('fo:hyphenate="true" fo:hyphenation-remain-char-count="2" '
            'fo:hyphenation-push-char-count="2" fo:hyphenation-ladder-count="no-limit"')
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-styles {ODF_NS}>
<office:font-face-decls>
 <style:font-face style:name="{SERIF}" svg:font-family="'{SERIF}'" style:font-family-generic="roman" style:font-pitch="variable"/>
 <style:font-face style:name="{SANS}" svg:font-family="'{SANS}'" style:font-family-generic="swiss" style:font-pitch="variable"/>
</office:font-face-decls>
<office:styles>
 <style:default-style style:family="paragraph">
  <style:paragraph-properties fo:orphans="2" fo:widows="2" style:writing-mode="lr-tb"/>
  <style:text-properties style:font-name="{SERIF}" fo:font-size="10pt" {lang} {hyph}/>
 </style:default-style>
 <style:style style:name="Standard" style:family="paragraph" style:class="text">
  <style:text-properties style:font-name="{SERIF}" fo:font-size="10pt" {lang} {hyph}/>
 </style:style>
 <style:style style:name="Text_20_body" style:display-name="Text body" style:family="paragraph" style:parent-style-name="Standard" style:class="text">
  <style:paragraph-properties fo:margin-top="0cm" fo:margin-bottom="0cm" fo:text-indent="0.5cm" fo:text-align="justify" style:justify-single-word="false" fo:line-height="118%"/>
 </style:style>
 <style:style style:name="First_20_line" style:display-name="First line" style:family="paragraph" style:parent-style-name="Text_20_body" style:class="text">
  <style:paragraph-properties fo:text-indent="0cm"/>
 </style:style>
 <style:style style:name="Title" style:family="paragraph" style:parent-style-name="Standard" style:next-style-name="Subtitle" style:class="chapter">
  <style:paragraph-properties fo:text-align="start" fo:margin-top="0cm" fo:margin-bottom="0.15cm" fo:keep-with-next="always"/>
  <style:text-properties style:font-name="{SANS}" fo:font-size="15pt" fo:font-weight="bold" fo:hyphenate="false"/>
 </style:style>
 <style:style style:name="Subtitle" style:family="paragraph" style:parent-style-name="Standard" style:class="chapter">
  <style:paragraph-properties fo:margin-top="0cm" fo:margin-bottom="0.35cm"/>
  <style:text-properties fo:font-style="italic" fo:font-size="9.5pt" fo:color="#444444"/>
 </style:style>
 <style:style style:name="Heading_20_2" style:display-name="Heading 2" style:family="paragraph" style:parent-style-name="Standard" style:next-style-name="First_20_line" style:default-outline-level="2" style:class="text">
  <style:paragraph-properties fo:margin-top="0.3cm" fo:margin-bottom="0.08cm" fo:keep-with-next="always" fo:text-align="start"/>
  <style:text-properties style:font-name="{SANS}" fo:font-size="10.5pt" fo:font-weight="bold" fo:hyphenate="false"/>
 </style:style>
 <style:style style:name="List_20_item" style:display-name="List item" style:family="paragraph" style:parent-style-name="Standard" style:class="list">
  <style:paragraph-properties fo:margin-left="0.6cm" fo:margin-top="0cm" fo:margin-bottom="0.04cm" fo:text-indent="-0.4cm" fo:text-align="justify" fo:line-height="118%">
   <style:tab-stops><style:tab-stop style:position="0cm"/></style:tab-stops>
  </style:paragraph-properties>
 </style:style>
 <style:style style:name="List_20_item_20_2" style:display-name="List item 2" style:family="paragraph" style:parent-style-name="List_20_item" style:class="list">
  <style:paragraph-properties fo:margin-left="1.1cm" fo:text-indent="-0.35cm"/>
 </style:style>
 <style:style style:name="Table_20_Contents" style:display-name="Table Contents" style:family="paragraph" style:parent-style-name="Standard" style:class="extra">
  <style:paragraph-properties fo:text-align="start"/>
  <style:text-properties fo:font-size="8.5pt" fo:hyphenate="false"/>
 </style:style>
 <style:style style:name="Table_20_Heading" style:display-name="Table Heading" style:family="paragraph" style:parent-style-name="Table_20_Contents" style:class="extra">
  <style:text-properties fo:font-weight="bold"/>
 </style:style>
 <style:style style:name="Header" style:family="paragraph" style:parent-style-name="Standard" style:class="extra">
  <style:paragraph-properties fo:padding-bottom="0.05cm" fo:border-bottom="0.5pt solid #000000">
   <style:tab-stops><style:tab-stop style:position="11.8cm" style:type="right"/></style:tab-stops>
  </style:paragraph-properties>
  <style:text-properties fo:font-size="8.5pt" fo:font-style="italic" fo:hyphenate="false"/>
 </style:style>
 <style:style style:name="Footer" style:family="paragraph" style:parent-style-name="Standard" style:class="extra">
  <style:paragraph-properties fo:text-align="center"/>
  <style:text-properties fo:font-size="9pt"/>
 </style:style>
</office:styles>
<office:automatic-styles>
 <style:page-layout style:name="pm1">
  <style:page-layout-properties fo:page-width="14.8cm" fo:page-height="21.0cm" style:print-orientation="portrait"
     fo:margin-top="1.2cm" fo:margin-bottom="1.2cm" fo:margin-left="1.5cm" fo:margin-right="1.5cm">{cols}</style:page-layout-properties>
  <style:header-style><style:header-footer-properties fo:min-height="0cm" fo:margin-bottom="0.5cm"/></style:header-style>
  <style:footer-style><style:header-footer-properties fo:min-height="0cm" fo:margin-top="0.5cm"/></style:footer-style>
 </style:page-layout>
</office:automatic-styles>
<office:master-styles>
 <style:master-page style:name="Standard" style:page-layout-name="pm1">
  <style:header><text:p text:style-name="Header">@@HEADER@@</text:p></style:header>
  <style:footer><text:p text:style-name="Footer">– <text:page-number text:select-page="current">1</text:page-number> –</text:p></style:footer>
 </style:master-page>
</office:master-styles>
</office:document-styles>
"""


def odt_inline(text: str) -> str:
    out = []
    for t, bold in inline_runs(text):
        t = xesc(t).replace("\n", "<text:line-break/>").replace("\t", "<text:tab/>")
        out.append(f'<text:span text:style-name="B">{t}</text:span>' if bold else t)
    return "".join(out)


def odt_content(doc) -> str:
    meta = doc["meta"]
    body = []
    have_date = any(b[0] == "date" for b in doc["blocks"])
    after_break = True          # no first-line indent after a heading / title / list
    hnum = 0
    for b in doc["blocks"]:
        kind = b[0]
        if kind == "title":
            body.append(f'<text:p text:style-name="Title">{odt_inline(b[1])}</text:p>')
            if not have_date:
                body.append(f'<text:p text:style-name="Subtitle">{xesc(pretty_date(meta))}</text:p>')
            after_break = True
        elif kind == "date":
            body.append(f'<text:p text:style-name="Subtitle">{xesc(b[1])}</text:p>')
            after_break = True
        elif kind == "h":
            hnum += 1
            body.append(f'<text:h text:style-name="Heading_20_2" text:outline-level="2">{hnum}. {odt_inline(b[1])}</text:h>')
            after_break = True
        elif kind == "p":
            style = "First_20_line" if after_break else "Text_20_body"
            if "\n" in b[1]:       # justified lines ending in a manual break would be stretched
                style = "PL" + style
            body.append(f'<text:p text:style-name="{style}">{odt_inline(b[1])}</text:p>')
            after_break = False
        elif kind == "li":
            text, level, marker = b[1], b[2], b[3]
            mark = ("•" if level == 0 else "–") if marker == "bullet" else marker
            style = "List_20_item" if level == 0 else "List_20_item_20_2"
            body.append(f'<text:p text:style-name="{style}">{xesc(mark)}<text:tab/>{odt_inline(text)}</text:p>')
            after_break = True
        elif kind == "table":
            rows = b[1]
            n = len(rows[0])
            body.append('<table:table table:name="Partners" table:style-name="Tbl">')
            for k in range(n):
                body.append(f'<table:table-column table:style-name="TblC{k}"/>')
            for r_i, r in enumerate(rows):
                st = "Table_20_Heading" if r_i == 0 else "Table_20_Contents"
                body.append("<table:table-row>" + "".join(
                    f'<table:table-cell table:style-name="TblCell" office:value-type="string">'
                    f'<text:p text:style-name="{st}">{odt_inline(c)}</text:p></table:table-cell>' for c in r)
                    + "</table:table-row>")
            body.append("</table:table>")
            after_break = True
    colstyles = ""
    for b in doc["blocks"]:
        if b[0] == "table":
            n = len(b[1][0])
            widths = {3: ["1.2cm", "4.6cm", "6cm"], 2: ["8cm", "3.8cm"]}.get(n, [f"{11.8 / n:.2f}cm"] * n)
            colstyles = "".join(
                f'<style:style style:name="TblC{k}" style:family="table-column"><style:table-column-properties style:column-width="{w}"/></style:style>'
                for k, w in enumerate(widths))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-content {ODF_NS}>
<office:automatic-styles>
 <style:style style:name="PLFirst_20_line" style:family="paragraph" style:parent-style-name="First_20_line"><style:paragraph-properties fo:text-align="start"/></style:style>
 <style:style style:name="PLText_20_body" style:family="paragraph" style:parent-style-name="Text_20_body"><style:paragraph-properties fo:text-align="start"/></style:style>
 <style:style style:name="B" style:family="text"><style:text-properties fo:font-weight="bold"/></style:style>
 <style:style style:name="Tbl" style:family="table"><style:table-properties style:width="11.8cm" table:align="left" fo:margin-top="0.2cm" fo:margin-bottom="0.3cm"/></style:style>
 <style:style style:name="TblCell" style:family="table-cell"><style:table-cell-properties fo:padding="0.08cm" fo:border="0.5pt solid #000000"/></style:style>
 {colstyles}
</office:automatic-styles>
<office:body><office:text>
{chr(10).join(body)}
</office:text></office:body>
</office:document-content>
"""


def odt_meta(meta) -> str:
    d = f"{meta['date']}T09:00:00"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-meta {ODF_NS}>
<office:meta>
 <meta:generator>LibreOffice/7.4</meta:generator>
 <dc:title>{xesc(str(meta['title']))}</dc:title>
 <meta:initial-creator>{xesc(str(meta['publisher']))}</meta:initial-creator>
 <dc:creator>{xesc(str(meta['publisher']))}</dc:creator>
 <meta:creation-date>{d}</meta:creation-date>
 <dc:date>{d}</dc:date>
 <dc:language>{xesc(str(meta.get('language', 'en')))}</dc:language>
</office:meta>
</office:document-meta>
"""


MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
 <manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>
 <manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>
</manifest:manifest>
"""


def write_odt(doc, path: Path):
    meta = doc["meta"]
    header = f"{xesc(str(meta['publisher']))}<text:tab/>{xesc(pretty_date(meta))}"
    styles = odt_styles(doc["stem"] in TWO_COLUMN_STEMS).replace("@@HEADER@@", header)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text",
                   compress_type=zipfile.ZIP_STORED)
        z.writestr("META-INF/manifest.xml", MANIFEST, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", odt_content(doc), compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("styles.xml", styles, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("meta.xml", odt_meta(meta), compress_type=zipfile.ZIP_DEFLATED)


def soffice_convert(src: Path, outdir: Path, fmt="pdf"):
    prof = Path(tempfile.mkdtemp(prefix="fb-lo-"))
    try:
        run(["soffice", f"-env:UserInstallation={prof.as_uri()}", "--headless", "--norestore",
             "--convert-to", fmt, "--outdir", str(outdir), str(src)], timeout=300)
    finally:
        shutil.rmtree(prof, ignore_errors=True)
    return outdir / (src.stem + "." + fmt.split(":")[0])


def writer_pdfs(docs, outdir: Path):
    outdir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="fb-odt-"))
    try:
        for doc in docs:
            odt = tmp / f"{doc['stem']}.odt"
            write_odt(doc, odt)
            pdf = soffice_convert(odt, outdir)
            set_pdf_metadata(pdf, doc["meta"])
            print("  ", pdf.relative_to(ROOT))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------
# 3: python-pptx decks (blank layout, hand-placed boxes) -> PDF by Impress
# ---------------------------------------------------------------------------

def _deck_slides(doc):
    """Group blocks into slides: a title slide, then one slide per heading;
    long slides are continued on '(cont.)' slides."""
    title_slide = {"title": None, "date": None, "intro": []}
    slides, cur = [], None
    for b in doc["blocks"]:
        if b[0] == "title":
            title_slide["title"] = b[1]
        elif b[0] == "date" and cur is None:
            title_slide["date"] = b[1]
        elif b[0] == "h":
            cur = {"title": b[1], "items": []}
            slides.append(cur)
        elif cur is None:
            title_slide["intro"].append(b)
        else:
            cur["items"].append(b)
    # split long slides (about 15 lines of 16 pt text in the body box)
    out = []
    for s in slides:
        chunk, lines = [], 0
        part = 0
        for b in s["items"]:
            n = 7 if b[0] == "table" else _lines(b)
            if chunk and lines + n > 15:
                out.append({"title": s["title"] + (" (cont.)" if part else ""), "items": chunk})
                part += 1
                chunk, lines = [], 0
            chunk.append(b)
            lines += n
        out.append({"title": s["title"] + (" (cont.)" if part else ""), "items": chunk})
    return title_slide, out


def _lines(b, cpl=100):
    text = plain(b[1]) if b[0] != "table" else ""
    n = sum(max(1, -(-len(seg) // cpl)) for seg in text.split("\n"))
    return n + 0.4


def _set_bullet(par, char, level):
    from pptx.oxml.ns import qn
    pPr = par._p.get_or_add_pPr()
    mar = 342900 + 342900 * level
    pPr.set("marL", str(mar))
    pPr.set("indent", str(-285750))
    for tag in ("a:buNone", "a:buChar", "a:buAutoNum"):
        for el in pPr.findall(qn(tag)):
            pPr.remove(el)
    bu = pPr.makeelement(qn("a:buChar"), {"char": char})
    pPr.append(bu)


def _add_runs(par, text, size, color=None, bold_all=False):
    from pptx.util import Pt
    for k, seg in enumerate(text.split("\n")):
        if k:
            par.add_line_break()
        for t, bold in inline_runs(seg):
            r = par.add_run()
            r.text = t
            r.font.size = Pt(size)
            r.font.bold = bold or bold_all
            if color is not None:
                r.font.color.rgb = color


def write_deck(doc, path: Path):
    from pptx import Presentation
    from pptx.dml.color import RGBColor
    from pptx.enum.shapes import MSO_SHAPE
    from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
    from pptx.util import Emu, Inches, Pt

    meta = doc["meta"]
    navy, teal, grey = RGBColor(0x0B, 0x2A, 0x5B), RGBColor(0x00, 0x7C, 0x89), RGBColor(0x55, 0x55, 0x55)
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    blank = prs.slide_layouts[6]
    cp = prs.core_properties
    cp.title = str(meta["title"])
    cp.author = str(meta["publisher"])
    cp.last_modified_by = str(meta["publisher"])
    cp.created = cp.modified = _dt.datetime.fromisoformat(f"{meta['date']}T09:00:00")
    cp.language = str(meta.get("language", "en"))

    title_slide, slides = _deck_slides(doc)
    total = 1 + len(slides)
    footer_text = f"EU–Japan Digital Partnership | {meta['publisher']}"

    def textbox(slide, x, y, w, h, anchor=MSO_ANCHOR.TOP):
        tb = slide.shapes.add_textbox(Inches(x), Inches(y), Inches(w), Inches(h))
        tf = tb.text_frame
        tf.word_wrap = True
        tf.vertical_anchor = anchor
        tf.margin_left = tf.margin_right = Inches(0.05)
        return tf

    def chrome(slide, number):
        bar = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, Inches(7.05), prs.slide_width, Inches(0.45))
        bar.fill.solid()
        bar.fill.fore_color.rgb = RGBColor(0xEE, 0xF1, 0xF6)
        bar.line.fill.background()
        tf = textbox(slide, 0.5, 7.1, 10.5, 0.35, MSO_ANCHOR.MIDDLE)
        _add_runs(tf.paragraphs[0], footer_text, 11, grey)
        tf = textbox(slide, 11.6, 7.1, 1.2, 0.35, MSO_ANCHOR.MIDDLE)
        tf.paragraphs[0].alignment = PP_ALIGN.RIGHT
        _add_runs(tf.paragraphs[0], str(number), 12, navy, bold_all=True)

    # title slide
    s = prs.slides.add_slide(blank)
    band = s.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, Inches(1.2), Inches(0.35), Inches(2.6))
    band.fill.solid()
    band.fill.fore_color.rgb = teal
    band.line.fill.background()
    tf = textbox(s, 0.8, 1.1, 11.8, 2.0, MSO_ANCHOR.BOTTOM)
    _add_runs(tf.paragraphs[0], title_slide["title"], 36, navy, bold_all=True)
    tf = textbox(s, 0.8, 3.25, 11.8, 0.5)
    _add_runs(tf.paragraphs[0], title_slide["date"] or pretty_date(meta), 18, teal)
    if title_slide["intro"]:
        tf = textbox(s, 0.8, 4.0, 11.8, 2.9)
        first = True
        for b in title_slide["intro"]:
            p = tf.paragraphs[0] if first else tf.add_paragraph()
            first = False
            p.space_after = Pt(6)
            _add_runs(p, b[1], 16 if len(b[1]) < 200 else 14, grey)
    chrome(s, 1)

    for k, sl in enumerate(slides, start=2):
        s = prs.slides.add_slide(blank)
        tf = textbox(s, 0.5, 0.35, 12.3, 1.0, MSO_ANCHOR.MIDDLE)
        _add_runs(tf.paragraphs[0], sl["title"], 26 if len(sl["title"]) < 60 else 22, navy, bold_all=True)
        rule = s.shapes.add_shape(MSO_SHAPE.RECTANGLE, Inches(0.5), Inches(1.42), Inches(12.3), Emu(28000))
        rule.fill.solid()
        rule.fill.fore_color.rgb = teal
        rule.line.fill.background()
        y = 1.65
        texts = []
        for b in sl["items"] + [("end",)]:
            if b[0] in ("p", "li"):
                texts.append(b)
                continue
            if texts:
                h = sum(_lines(t) for t in texts) * 0.36 + 0.1
                tf = textbox(s, 0.6, y, 12.1, h)
                for i, t in enumerate(texts):
                    p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
                    p.space_after = Pt(6)
                    if t[0] == "li":
                        level, marker = t[2], t[3]
                        if marker == "bullet":
                            _set_bullet(p, "•" if level == 0 else "–", level)
                            _add_runs(p, t[1], 16 if level == 0 else 15)
                        else:
                            _set_bullet(p, " ", level)
                            _add_runs(p, f"{marker} {t[1]}", 16)
                    else:
                        _add_runs(p, t[1], 16)
                y += h + 0.15
                texts = []
            if b[0] == "table":
                rows = b[1]
                ncol = len(rows[0])
                widths = [1.0, 4.6, 6.6] if ncol == 3 else [12.2 / ncol] * ncol
                gt = s.shapes.add_table(len(rows), ncol, Inches(0.6), Inches(y),
                                        Inches(sum(widths)), Inches(0.4 * len(rows))).table
                for c, w in enumerate(widths):
                    gt.columns[c].width = Inches(w)
                for r_i, r in enumerate(rows):
                    for c_i in range(ncol):
                        cell = gt.cell(r_i, c_i)
                        cell.text = ""
                        _add_runs(cell.text_frame.paragraphs[0], r[c_i] if c_i < len(r) else "", 12,
                                  bold_all=(r_i == 0))
                y += 0.4 * len(rows) + 1.2
        chrome(s, k)
    prs.save(path)


def impress_pdfs(docs, outdir: Path):
    outdir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="fb-pptx-"))
    try:
        for doc in docs:
            pptx = tmp / f"{doc['stem']}.pptx"
            write_deck(doc, pptx)
            pdf = soffice_convert(pptx, outdir, "pdf:impress_pdf_Export")
            set_pdf_metadata(pdf, doc["meta"])
            print("  ", pdf.relative_to(ROOT))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------
# 4: image-only "scans" of the Writer PDFs
# ---------------------------------------------------------------------------

def scan_pdfs(src_dir: Path, outdir: Path, docs_by_stem, dpi=150, quality=50):
    import fitz
    from PIL import Image, ImageFilter

    outdir.mkdir(parents=True, exist_ok=True)
    for src in sorted(src_dir.glob("*.pdf")):
        tmp = Path(tempfile.mkdtemp(prefix="fb-scan-"))
        try:
            run(["pdftoppm", "-r", str(dpi), "-gray", str(src), str(tmp / "p")])
            pages = sorted(tmp.glob("p-*.pgm"))
            sizes = [pg.rect for pg in fitz.open(src)]
            out = fitz.open()
            for k, (pgm, rect) in enumerate(zip(pages, sizes)):
                im = Image.open(pgm).convert("L")
                angle = 1.0 if k % 2 == 0 else 0.8     # a sheet fed slightly askew
                im = im.rotate(-angle, resample=Image.BICUBIC, expand=False, fillcolor=255)
                im = im.filter(ImageFilter.GaussianBlur(0.6))
                buf = io.BytesIO()
                im.save(buf, "JPEG", quality=quality, optimize=True, dpi=(dpi, dpi))
                page = out.new_page(width=rect.width, height=rect.height)
                page.insert_image(page.rect, stream=buf.getvalue())
            meta = docs_by_stem[src.stem]["meta"]
            d = _dt.date.fromisoformat(str(meta["date"]))
            out.set_metadata({"title": str(meta["title"]), "author": str(meta["publisher"]),
                              "creator": "Scan to PDF", "producer": "Scan to PDF",
                              "creationDate": f"D:{d:%Y%m%d}090000Z", "modDate": f"D:{d:%Y%m%d}090000Z"})
            dst = outdir / src.name
            out.save(dst, garbage=3, deflate=True)
            out.close()
            print("  ", dst.relative_to(ROOT), f"{dst.stat().st_size // 1024} KB")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------
# checks and driver
# ---------------------------------------------------------------------------

def pdftotext(pdf: Path, layout=False) -> str:
    return run(["pdftotext"] + (["-layout"] if layout else []) + [str(pdf), "-"]).stdout


def check(folder: Path, docs_by_stem, expect_text=True):
    """Every body word of the source must be in the PDF text, in order;
    scans must have no text at all."""
    ok = True
    for pdf in sorted(folder.glob("*.pdf")):
        text = pdftotext(pdf)
        if not expect_text:
            if text.strip():
                print(f"   !! {pdf.name}: scan has a text layer")
                ok = False
            continue
        doc = docs_by_stem[pdf.stem]
        src = [plain(b[1]) for b in doc["blocks"] if b[0] in ("title", "date", "h", "p", "li")]
        cells = [c for b in doc["blocks"] if b[0] == "table" for r in b[1] for c in r if c]
        flat = re.sub(r"-\n", "", text)          # Writer hyphenation
        flat = re.sub(r"\s+", "", flat)
        keys = [re.sub(r"\s+", "", s)[:40] for s in src]
        missing = [s for s, k in zip(src, keys) if k and k not in flat]
        last, in_order, n_found = 0, 0, 0
        for k in keys:
            if k and k in flat:
                n_found += 1
                j = flat.find(k, last)
                if j >= 0:
                    in_order += 1
                    last = j + 1
        cell_miss = [c for c in cells if re.sub(r"\s+", "", c)[:6] not in flat]
        status = "ok" if not missing else f"{len(missing)} blocks not found, e.g. {missing[0][:60]!r}"
        print(f"   {pdf.name}: {len(text)} chars, blocks {len(src) - len(missing)}/{len(src)} found, "
              f"{in_order}/{n_found} in order, table cells {len(cells) - len(cell_miss)}/{len(cells)}; {status}")
        ok &= not missing
    return ok


SETS = ["chromium-print", "writer-odt-pdf", "impress-pdf", "scan-150dpi", "japanese-chromium"]


def main(argv):
    wanted = argv or SETS
    en = {p.stem: parse(p) for p in EN_SOURCES}
    ja = {p.stem: parse(p) for p in JA_SOURCES}
    for name in SETS:
        if name not in wanted:
            continue
        out = OUT / name
        print(name)
        if out.exists():
            shutil.rmtree(out)
        if name == "chromium-print":
            chromium_print(en.values(), out)
            check(out, en)
        elif name == "writer-odt-pdf":
            writer_pdfs(en.values(), out)
            check(out, en)
        elif name == "impress-pdf":
            impress_pdfs([en[s] for s in DECK_STEMS], out)
            check(out, en)
        elif name == "scan-150dpi":
            if not (OUT / "writer-odt-pdf").exists():
                writer_pdfs(en.values(), OUT / "writer-odt-pdf")
            scan_pdfs(OUT / "writer-odt-pdf", out, en)
            check(out, en, expect_text=False)
        elif name == "japanese-chromium":
            chromium_print(ja.values(), out)
            check(out, ja)


if __name__ == "__main__":
    main(sys.argv[1:])
