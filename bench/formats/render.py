"""Render the bundled documents into the file formats real users have (test inputs for qa/ readers).

Run by hand from the repo root:  .venv/bin/python -m bench.formats.render
Reads corpus/*.md and bench/japanese/corpus/*.md and rewrites bench/formats/{docx,libreoffice-pdf,
reportlab-pdf,pptx,pptx-pdf,scan,html,japanese-pdf,japanese-scan}/.  Not run in CI.

Debian: libreoffice-writer-nogui libreoffice-impress poppler-utils hyphen-en-us fonts-noto-cjk
        fonts-liberation2 fonts-dejavu-core fonts-ipafont-gothic
PyPI (besides the project's PyYAML): python-docx python-pptx reportlab pyphen pillow
"""
import datetime as dt
import html
import random
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from lxml import etree
from PIL import Image, ImageFilter
from pptx import Presentation
from pptx.oxml.ns import qn as pqn
from pptx.util import Inches
from pptx.util import Pt as PPt
from reportlab.lib import colors
from reportlab.lib.enums import TA_JUSTIFY
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    FrameBreak,
    ListFlowable,
    ListItem,
    NextPageTemplate,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "formats"
DATE_RE = re.compile(r"^(Published on )?(\d{1,2} [A-Z][a-z]+,? \d{4}|[A-Z][a-z]+ \d{1,2}, \d{4}|\d{4}年\d{1,2}月\d{1,2}日)$")
LIST_RE = re.compile(r"^(\s*)([-*]|\d+\.)\s+(.*)$")
CAPTION_RE = re.compile(r"^(photo of|group photo|figure:)|\|\s*\w+$", re.IGNORECASE)
TWO_COLUMN = {"2023-07-14-japan-times-eu-japan-summit", "2024-05-01-second-digital-partnership-council"}
FIGURES = {  # composed photo captions for pages whose text has none (names all appear in the text)
    "2025-05-12-third-digital-partnership-council": "Executive Vice-President Henna Virkkunen and Minister for "
    "Digital Transformation Masaaki Taira at the third Digital Partnership Council in Tokyo"}


@dataclass
class Doc:  # blocks: ('h', level, text) ('p', text) ('cap', text) ('list', [[level, ordered, text]]) ('table', rows)
    stem: str; title: str; publisher: str; date: dt.date; url: str; lang: str
    blocks: list = field(default_factory=list)
    dateline: str = ""
    dateline_in_text: bool = False


def long_date(d):
    return f"{d.day} {d:%B %Y}"


def plain(text):
    return text.replace("**", "")


# ---------------------------------------------------------------- parsing
def _join(prev, nxt):
    return not prev.endswith(tuple('.!?:;"”')) and (nxt[:1].islower() or (len(prev) < 30 and len(nxt) < 30))


def parse(body):
    blocks, group, last_group = [], 0, -1
    for line in body.split("\n"):
        s = line.strip()
        if not s:
            group += 1
            continue
        kind = blocks[-1][0] if blocks and last_group == group else None
        if s.startswith("|"):
            if not set(s) <= set("|-: "):
                row = [c.strip() for c in s.strip("|").split("|")]
                blocks.append(("table", [])) if kind != "table" else None
                blocks[-1][1].append(row)
        elif "\t" in line:
            blocks.append(("table", [])) if kind != "table" else None
            blocks[-1][1].append([c.strip() for c in line.split("\t")])
        elif m := re.match(r"(#+)\s+(.*)", s):
            blocks.append(("h", len(m[1]), m[2]))
        elif m := LIST_RE.match(line):
            if kind != "list":
                blocks.append(("list", []))
            blocks[-1][1].append([len(m[1]), m[2][-1] == "." and m[2][0].isdigit(), m[3]])
        elif kind == "list" and line[0].isspace():
            blocks[-1][1][-1][2] += " " + s
        elif kind == "p" and last_group == group and _join(blocks[-1][1], s):
            blocks[-1] = ("p", blocks[-1][1] + " " + s)
        else:
            blocks.append(("cap" if CAPTION_RE.search(s) else "p", s))
        last_group = group
    for b in blocks:  # list indents -> levels 0..2
        if b[0] == "list":
            ind = sorted({it[0] for it in b[1]})
            for it in b[1]:
                it[0] = min(ind.index(it[0]), 2)
    if not any(b[0] == "h" for b in blocks):  # plain-text documents: short title-like lines before body text
        for i, b in enumerate(blocks[:-1]):
            nxt = blocks[i + 1]
            if b[0] == "p" and 1 <= len(b[1].split()) <= 16 and not b[1].endswith(tuple(".,:;!?")) \
                    and (b[1][0].isupper() or b[1][0].isdigit()) and not DATE_RE.match(b[1]) \
                    and (nxt[0] in ("list", "table") or nxt[0] == "p" and len(nxt[1].split()) >= 8
                         and nxt[1].endswith((".", ":"))):
                blocks[i] = ("h", 2, b[1])
    return [(b[0], max(b[1] - 1, 1), b[2]) if b[0] == "h" else b for b in blocks]


def load(path):
    head, body = re.match(r"---\n(.*?)\n---\n(.*)$", path.read_text(encoding="utf-8"), re.DOTALL).groups()
    meta = yaml.safe_load(head)
    doc = Doc(path.stem, meta["title"], meta["publisher"], dt.date.fromisoformat(str(meta["date"])),
              meta.get("url", ""), meta.get("language", "en"), parse(body))
    if doc.blocks and plain(doc.blocks[0][-1]) == doc.title:  # the text opens with the title
        doc.blocks.pop(0)
    if doc.blocks and doc.blocks[0][0] == "p" and DATE_RE.match(doc.blocks[0][1]):
        doc.dateline, doc.dateline_in_text = doc.blocks.pop(0)[1], True
    else:
        city = re.search(r"\b(?:in|at) (Tokyo|Brussels)\b", body)
        doc.dateline = (city[1] + ", " if city else "") + long_date(doc.date)
    return doc


def short_title(title, n=55):
    return title if len(title) <= n else title[:n].rsplit(" ", 1)[0] + "…"


# ---------------------------------------------------------------- docx (python-docx)
PPR_AFTER = ("w:kinsoku", "w:wordWrap", "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN",
             "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing",
             "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
             "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")


def _field(par, instr):  # Word complex field: begin / instrText / separate / cached result / end
    for kind, text in (("begin", None), ("instr", instr), ("separate", None), ("text", "1"), ("end", None)):
        el = OxmlElement({"instr": "w:instrText", "text": "w:t"}.get(kind, "w:fldChar"))
        if kind == "instr":
            el.set(qn("xml:space"), "preserve")
        el.text = f" {text} " if kind == "instr" else text
        el.set(qn("w:fldCharType"), kind) if el.tag == qn("w:fldChar") else None
        par.add_run()._r.append(el)


def _runs(par, text):
    for i, part in enumerate(text.split("**")):
        if part:
            par.add_run(part).bold = bool(i % 2) or None


def write_docx(doc, path, ja=False):
    d = Document()
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "Heading 3", "Caption"):
        st = d.styles[name]
        st.font.name = "Liberation Serif" if name in ("Normal", "Caption") else "Liberation Sans"
        fonts = st.element.get_or_add_rPr().get_or_add_rFonts()
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme"):
            fonts.attrib.pop(qn(attr), None)
        if name != "Normal" and name != "Caption":  # no hyphenation in titles and headings
            st.element.get_or_add_pPr().insert_element_before(OxmlElement("w:suppressAutoHyphens"), *PPR_AFTER)
        if ja:
            fonts.set(qn("w:eastAsia"), "Noto Serif CJK JP" if name in ("Normal", "Caption") else "Noto Sans CJK JP")
    d.styles["Normal"].font.size, d.styles["Title"].font.size = Pt(11), Pt(20)
    if ja:
        d.styles.element.find(qn("w:docDefaults")).find(".//" + qn("w:lang")).set(qn("w:eastAsia"), "ja-JP")
    cp = d.core_properties
    cp.title, cp.author, cp.language = doc.title, doc.publisher, doc.lang
    cp.created = cp.modified = dt.datetime.combine(doc.date, dt.time(9, 0))
    settings = d.settings.element
    hyph = OxmlElement("w:autoHyphenation")
    settings.find(qn("w:defaultTabStop")).addnext(hyph)
    sec = d.sections[0]
    sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)  # A4
    sec.left_margin = sec.right_margin = Cm(2.5)
    sec.header.paragraphs[0].text = short_title(doc.title)
    foot = sec.footer.paragraphs[0]
    foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for part in (["", "PAGE", " / ", "NUMPAGES", " ページ"] if ja else ["Page ", "PAGE", " of ", "NUMPAGES"]):
        _field(foot, part) if part.isupper() and part.isalpha() else foot.add_run(part)
    d.add_paragraph(doc.title, style="Title")
    d.add_paragraph(doc.dateline).runs[0].italic = True
    numbering = d.part.numbering_part.element
    for b in doc.blocks:
        if b[0] == "h":
            d.add_heading(plain(b[2]), level=min(b[1], 3))
        elif b[0] in ("p", "cap"):
            par = d.add_paragraph(style="Caption" if b[0] == "cap" else None)
            _runs(par, b[1])
            par.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        elif b[0] == "list":
            num_id = None
            for level, ordered, text in b[1]:
                par = d.add_paragraph(style=("List Number" if ordered else "List Bullet") + ("", " 2", " 3")[level])
                _runs(par, text)
                if ordered and level == 0:  # restart numbering for each new numbered list
                    if num_id is None:
                        base = d.styles["List Number"].element.pPr.numPr.numId.val
                        num = numbering.add_num(numbering.num_having_numId(base).abstractNumId.val)
                        num.add_lvlOverride(ilvl=0).add_startOverride(1)
                        num_id = num.numId
                    par._p.get_or_add_pPr().get_or_add_numPr().get_or_add_numId().val = num_id
        elif b[0] == "table":
            rows = b[1]
            t = d.add_table(rows=len(rows), cols=max(map(len, rows)), style="Table Grid")
            for r, row in enumerate(rows):
                for c, text in enumerate(row):
                    cell = t.cell(r, c).paragraphs[0]
                    cell.add_run(plain(text)).bold = r == 0 or None
    d.save(path)


def soffice(files, outdir, fmt="pdf"):
    with tempfile.TemporaryDirectory() as prof:
        subprocess.run(["soffice", f"-env:UserInstallation=file://{prof}", "--headless", "--convert-to", fmt,
                        "--outdir", str(outdir), *map(str, files)], check=True, capture_output=True, timeout=600)


# ---------------------------------------------------------------- reportlab
def write_reportlab(doc, path, two_columns):
    lib = "/usr/share/fonts/truetype/"
    fonts = {"Serif": "liberation2/LiberationSerif-Regular.ttf", "Serif-Bold": "liberation2/LiberationSerif-Bold.ttf",
             "Serif-Italic": "liberation2/LiberationSerif-Italic.ttf", "Sans-Bold": "liberation2/LiberationSans-Bold.ttf",
             "DejaVuSans": "dejavu/DejaVuSans.ttf", "IPAGothic": "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"}
    for name, f in fonts.items():
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, f if f.startswith("/") else lib + f))
    pdfmetrics.registerFontFamily("Serif", normal="Serif", bold="Serif-Bold", italic="Serif-Italic",
                                  boldItalic="Serif-Bold")
    cmap = pdfmetrics.getFont("Serif").face.charToGlyph
    dv = pdfmetrics.getFont("DejaVuSans").face.charToGlyph

    def markup(text):  # escape, **bold** -> <b>, glyphs missing from Liberation -> fallback fonts
        out = "".join(c if ord(c) in cmap or c in "*" else
                      f'<font name="{"DejaVuSans" if ord(c) in dv else "IPAGothic"}">{c}</font>'
                      for c in html.escape(text, quote=False))
        return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", out).replace("**", "")

    hy = {"hyphenationLang": "en_GB", "embeddedHyphenation": 1, "uriWasteReduce": 0.3}
    body = ParagraphStyle("Body", fontName="Serif", fontSize=10.5, leading=13.5, alignment=TA_JUSTIFY,
                          spaceAfter=5, **hy)
    cap = ParagraphStyle("Cap", body, fontName="Serif-Italic", fontSize=9, leading=11)
    h1 = ParagraphStyle("H1", fontName="Sans-Bold", fontSize=17, leading=21, spaceAfter=6)
    h2 = ParagraphStyle("H2", h1, fontSize=12.5, leading=15, spaceBefore=8, spaceAfter=4)
    cell = ParagraphStyle("Cell", body, fontSize=8.5, leading=10.5, alignment=0)

    def make_list(items, i=0, level=0):
        out, ordered = [], items[i][1]
        while i < len(items) and items[i][0] >= level:
            if items[i][0] > level:
                sub, i = make_list(items, i, level + 1)
                out.append(sub)
                continue
            out.append(ListItem(Paragraph(markup(items[i][2]), body)))
            i += 1
        kw = {"bulletType": "1"} if ordered else {"bulletType": "bullet", "start": "•" if level == 0 else "–"}
        return ListFlowable(out, leftIndent=14, bulletFontName="Serif", bulletFontSize=9, **kw), i

    story = [Paragraph(markup(doc.title), h1), Paragraph(markup(doc.dateline), cap)]
    for b in doc.blocks:
        if b[0] == "h":
            story.append(Paragraph(markup(b[2]), h2))
        elif b[0] in ("p", "cap"):
            story.append(Paragraph(markup(b[1]), cap if b[0] == "cap" else body))
        elif b[0] == "list":
            story.append(make_list(b[1])[0])
        elif b[0] == "table":
            rows = [[Paragraph(markup(t), cell) for t in row] for row in b[1]]
            t = Table(rows, repeatRows=1)
            t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                                   ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde4ee"))]))
            story += [Spacer(1, 4), t, Spacer(1, 6)]
    W, H = A4
    m, gap = 20 * mm, 7 * mm
    templates = [PageTemplate(id="main", frames=[Frame(m, m, W - 2 * m, H - 2 * m, id="body")])]
    if two_columns:  # full-width title block on page 1, then two columns
        cw, top = (W - 2 * m - gap) / 2, 34 * mm
        cols = lambda h: [Frame(m + k * (cw + gap), m, cw, h, id=f"c{k}") for k in (0, 1)]
        templates = [PageTemplate(id="first", frames=[Frame(m, H - m - top, W - 2 * m, top, id="title")]
                                  + cols(H - 2 * m - top)), PageTemplate(id="later", frames=cols(H - 2 * m))]
        story[2:2] = [NextPageTemplate("later"), FrameBreak()]
    header = f"{short_title(doc.title, 70)}  ·  {long_date(doc.date)}"

    class NumberedCanvas(Canvas):  # defers pages so the footer can say "Page n of m"
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            self._pages = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            for n, state in enumerate(self._pages, 1):
                self.__dict__.update(state)
                self.setFont("Serif-Italic", 8.5)
                self.drawString(m, H - 12 * mm, header)
                self.line(m, H - 13.5 * mm, W - m, H - 13.5 * mm)
                self.drawCentredString(W / 2, 10 * mm, f"Page {n} of {len(self._pages)}")
                super().showPage()
            super().save()

    tpl = BaseDocTemplate(str(path), pagesize=A4, title=doc.title, author=doc.publisher, subject=doc.url,
                          leftMargin=m, rightMargin=m, topMargin=m, bottomMargin=m)
    tpl.addPageTemplates(templates)
    tpl.build(story, canvasmaker=NumberedCanvas)


# ---------------------------------------------------------------- pptx (python-pptx)
def slide_plan(doc, budget=750):
    """[(title, [('t', level, ordered, text) | ('table', rows)])] with ≤5 text items and ≤budget chars per slide."""
    sections, plan = [[None, []]], []
    for b in doc.blocks:
        if b[0] == "h":
            sections.append([plain(b[2]), []])
        elif b[0] == "list":
            nums = [0]
            for lv, o, t in b[1]:
                nums[0] += o and lv == 0
                sections[-1][1].append(("t", lv, nums[0] if o and lv == 0 else 0, plain(t)))
        elif b[0] == "table":
            hdr, rows = b[1][0], b[1][1:]
            sections[-1][1] += [("table", [hdr] + rows[i:i + 6]) for i in range(0, len(rows), 6)]
        else:
            sections[-1][1].append(("t", 0, False, plain(b[1])))
    for head, items in sections:
        chunks, cur = [], []
        for it in items:
            size = sum(len(x[3]) for x in cur if x[0] == "t")
            if cur and (it[0] == "table" or cur[-1][0] == "table" or len(cur) >= 5 or size + len(it[-1]) > budget):
                chunks.append(cur)
                cur = []
            cur.append(it)
        chunks += [cur] if cur or head else []
        for k, ch in enumerate(chunks):
            name = head or doc.title
            plan.append((name + (" (continued)" if k or not head and plan else ""), ch))
    return plan


def write_pptx(doc, path):
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    cp = prs.core_properties
    cp.title, cp.author, cp.language = doc.title, doc.publisher, doc.lang
    cp.created = cp.modified = dt.datetime.combine(doc.date, dt.time(9, 0))
    s = prs.slides.add_slide(prs.slide_layouts[0])
    W = prs.slide_width - Inches(1.0)
    place = lambda shp, top, h: setattr(shp, "left", Inches(0.5)) or setattr(shp, "top", top) or \
        setattr(shp, "width", W) or setattr(shp, "height", h)  # set all four, else python-pptx zeroes the rest
    place(s.shapes.title, Inches(2.0), Inches(2.2))
    place(s.placeholders[1], Inches(4.4), Inches(1.6))
    s.shapes.title.text = doc.title
    s.placeholders[1].text = f"{doc.publisher}\n{doc.dateline}"
    plan = slide_plan(doc)
    sentences = {n: [x for it in items if it[0] == "t" for x in re.split(r"(?<=[a-z]{2}[.!?])\s+", it[3])
                     if x.endswith(".") and 6 <= len(x.split()) <= 30] for n, (_, items) in enumerate(plan)}
    noted = [n for n in sentences if sentences[n]]
    notes = {n: min(sentences[n], key=len) for n in noted[:1] + noted[len(noted) // 2:][:1]}  # two slides
    for n, (title, items) in enumerate(plan):
        table = items and items[0][0] == "table"
        s = prs.slides.add_slide(prs.slide_layouts[5 if table else 1])
        s.shapes.title.text = title
        s.shapes.title.text_frame.paragraphs[0].font.size = PPt(30 if len(title) < 60 else 24)
        place(s.shapes.title, Inches(0.3), Inches(1.1))
        if table:
            rows = items[0][1]
            shape = s.shapes.add_table(len(rows), max(map(len, rows)), Inches(0.5), Inches(1.6),
                                       prs.slide_width - Inches(1.0), Inches(0.8) * len(rows))
            longest = [max(len(row[c]) if c < len(row) else 0 for row in rows) + 15 for c in range(len(rows[0]))]
            for c, n_chars in enumerate(longest):
                shape.table.columns[c].width = int(W * n_chars / sum(longest))
            for r, row in enumerate(rows):
                for c, text in enumerate(row):
                    shape.table.cell(r, c).text = plain(text)
                    shape.table.cell(r, c).text_frame.paragraphs[0].font.size = PPt(14)
        else:
            body = s.placeholders[1]
            place(body, Inches(1.5), Inches(5.6))
            size = sum(len(it[3]) for it in items)
            for k, (_, level, num, text) in enumerate(items):
                p = body.text_frame.paragraphs[0] if k == 0 else body.text_frame.add_paragraph()
                p.text, p.level = text, level
                p.font.size = PPt(24 if size < 350 else 20 if size < 550 else 18)
                if num:  # real auto-numbered bullets; numbers continue across "(continued)" slides
                    bu = etree.SubElement(p._p.get_or_add_pPr(), pqn("a:buAutoNum"))
                    bu.set("type", "arabicPeriod")
                    bu.set("startAt", str(num))
        if n in notes:
            s.notes_slide.notes_text_frame.text = notes[n]
    prs.save(path)


# ---------------------------------------------------------------- html
SITES = {
    "European Commission": ("European Commission", "Press corner",
                            ["Home", "About the Commission", "Strategy and policy", "Aid, funding and grants",
                             "News", "Events", "Press corner", "Digital Strategy", "Library", "Contact", "Jobs",
                             "Languages"]),
    "Digital Agency": ("Digital Agency", "News", ["Home", "About us", "Policies", "Digital Society",
                                                  "My Number Card", "Procurement", "News", "Press releases",
                                                  "Publications", "Recruitment", "FAQ", "日本語"]),
    "The Japan Times": ("The Japan Times", "Politics", ["News", "National", "Politics", "Business", "Asia Pacific",
                                                        "World", "Opinion", "Life", "Culture", "Sports", "Podcasts",
                                                        "Newsletters", "Subscribe"]),
}
FOOTER = ["About this site", "Accessibility", "Privacy policy", "Legal notice", "Cookies", "Contact us", "Sitemap",
          "Social media", "RSS", "Careers", "Terms of use", "Copyright", "Feedback", "Press contacts"]


def inline(text):
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html.escape(text, quote=False)).replace("**", "")


def write_html(doc, path, idx, others):
    site, section, nav = next(v for k, v in SITES.items() if k in doc.publisher)
    link = lambda label: f'<li><a href="/{re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")}">{html.escape(label)}</a></li>'
    iso = doc.date.isoformat()
    date_txt = doc.dateline if doc.dateline_in_text else f"Published on {long_date(doc.date)}"
    dateline = (f'<p class="meta">Published on <time datetime="{iso}">{html.escape(date_txt.removeprefix("Published on "))}</time></p>'
                if idx % 2 == 0 else f'<p class="date">{html.escape(date_txt)}</p>')
    body, fig_done = [], False
    figure = lambda cap: (f'<figure class="photo"><img src="images/{doc.stem}.jpg" alt="{html.escape(cap)}" '
                          f'width="800" height="533"><figcaption>{html.escape(cap)}</figcaption></figure>')
    for b in doc.blocks:
        if b[0] == "h":
            body.append(f"<h{b[1] + 1}>{inline(b[2])}</h{b[1] + 1}>")
        elif b[0] == "cap" and not fig_done:
            body.append(figure(b[1]))
            fig_done = True
        elif b[0] in ("p", "cap"):
            body.append(f"<p>{inline(b[1])}</p>")
        elif b[0] == "list":
            out, stack = [], []
            for level, ordered, text in b[1]:
                while len(stack) > level + 1:
                    out.append(f"</li></{stack.pop()}>")
                if len(stack) == level + 1:
                    out.append("</li>")
                while len(stack) < level + 1:
                    stack.append("ol" if ordered else "ul")
                    out.append(f"<{stack[-1]}>")
                out.append(f"<li>{inline(text)}")
            out += [f"</li></{t}>" for t in reversed(stack)]
            body.append("\n".join(out))
        elif b[0] == "table":
            rows = b[1]
            head = "".join(f'<th scope="col">{inline(c)}</th>' for c in rows[0])
            trs = "".join("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in r) + "</tr>\n" for r in rows[1:])
            body.append(f'<table class="ecl-table">\n<thead><tr>{head}</tr></thead>\n<tbody>\n{trs}</tbody></table>')
        if len(body) == 1 and not fig_done and doc.stem in FIGURES:
            body.append(figure(FIGURES[doc.stem]))
            fig_done = True
    related = "".join(f'<li><a href="{o.stem}.html">{html.escape(o.title)}</a></li>' for o in others)
    e, n = html.escape, "\n"
    canonical = f'<link rel="canonical" href="{e(doc.url)}">' if doc.url else ""
    page = f"""<!DOCTYPE html>
<html lang="{doc.lang}">
<head>
<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(doc.title)} | {site}</title>
<meta name="author" content="{e(doc.publisher)}">
<meta name="description" content="{e(plain(next(b[1] for b in doc.blocks if b[0] == 'p'))[:155])}">
<meta property="og:site_name" content="{site}"><meta property="og:title" content="{e(doc.title)}">
<meta property="og:type" content="article"><meta property="article:published_time" content="{iso}T09:00:00Z">
{canonical}
<link rel="stylesheet" href="/themes/site/css/main.css"><script src="/themes/site/js/analytics.js" defer></script>
</head>
<body>
<div id="cookie-consent" class="cookie-banner" role="dialog" aria-label="Cookie consent">
<p>This site uses cookies to offer you a better browsing experience. Find out more on <a href="/cookies">how we use cookies</a> and how you can change your settings.</p>
<button type="button" class="accept">Accept all cookies</button> <button type="button" class="reject">Accept only essential cookies</button> <a href="/cookies#settings">Cookie settings</a>
</div>
<a class="skip-link" href="#main-content">Skip to main content</a>
<header class="site-header">
<a class="logo" href="/"><img src="/themes/site/logo.svg" alt="{site}"></a>
<form class="search" action="/search"><input type="search" name="q" placeholder="Search"><button>Search</button></form>
<nav class="main-nav" aria-label="Site navigation"><ul>
{n.join(map(link, nav))}
</ul></nav>
</header>
<nav class="breadcrumb" aria-label="Breadcrumb"><ol><li><a href="/">Home</a></li><li><a href="/news">{section}</a></li><li aria-current="page">{e(short_title(doc.title, 40))}</li></ol></nav>
<div class="layout">
<main id="main-content"><article>
<h1>{e(doc.title)}</h1>
{dateline}
<div class="share">Share this page: <a href="#">Facebook</a> <a href="#">X</a> <a href="#">LinkedIn</a> <a href="#">E-mail</a></div>
{n.join(body)}
</article></main>
<aside class="sidebar"><h2>Related</h2><ul>
{related}
</ul><h2>Topics</h2><ul><li><a href="/topics/digital">Digital</a></li><li><a href="/topics/japan">Japan</a></li><li><a href="/topics/international">International relations</a></li></ul></aside>
</div>
<footer class="site-footer">
<div class="newsletter"><a href="/newsletter">Subscribe to our newsletter</a></div>
<ul class="footer-links">
{n.join(map(link, FOOTER))}
</ul>
<p class="follow">Follow us: <a href="#">Facebook</a> · <a href="#">X</a> · <a href="#">YouTube</a> · <a href="#">LinkedIn</a></p>
<p class="copyright">© {site} {doc.date.year}. All rights reserved.</p>
</footer>
</body>
</html>
"""
    path.write_text(page, encoding="utf-8")


# ---------------------------------------------------------------- scans
def scan(pdf, out, title, author, seed):
    rnd = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-r", "200", "-gray", str(pdf), f"{tmp}/p"], check=True)
        pages = []
        for png in sorted(Path(tmp).glob("p*.pgm")):
            im = Image.open(png).convert("L")
            im = im.rotate(rnd.uniform(-0.5, 0.5), resample=Image.BICUBIC, fillcolor=255)
            noise = Image.effect_noise(im.size, 30)  # sensor noise + slight optical blur
            pages.append(Image.blend(im, noise, 0.04).filter(ImageFilter.GaussianBlur(0.5)))
        pages[0].save(out, save_all=True, append_images=pages[1:], resolution=200.0, quality=30, optimize=True,
                      title=title, author=author, creator="Scanner", producer="Pillow")


# ---------------------------------------------------------------- main
def fresh(name):
    d = OUT / name
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    return d


def main():
    docs = [load(p) for p in sorted((ROOT / "corpus").glob("*.md"))]
    ja_docs = [load(p) for p in sorted((ROOT / "bench" / "japanese" / "corpus").glob("*.md"))]
    dx, pp, rl, ht = fresh("docx"), fresh("pptx"), fresh("reportlab-pdf"), fresh("html")
    for i, doc in enumerate(docs):
        write_docx(doc, dx / f"{doc.stem}.docx")
        write_pptx(doc, pp / f"{doc.stem}.pptx")
        write_reportlab(doc, rl / f"{doc.stem}.pdf", doc.stem in TWO_COLUMN)
        write_html(doc, ht / f"{doc.stem}.html", i, [o for o in docs if o is not doc])
    lo, ppdf = fresh("libreoffice-pdf"), fresh("pptx-pdf")
    soffice(sorted(dx.glob("*.docx")), lo)
    soffice(sorted(pp.glob("*.pptx")), ppdf)
    sc = fresh("scan")
    for doc in docs:
        scan(lo / f"{doc.stem}.pdf", sc / f"{doc.stem}.pdf", doc.title, doc.publisher, doc.stem)
    jp, js = fresh("japanese-pdf"), fresh("japanese-scan")
    with tempfile.TemporaryDirectory() as tmp:
        for doc in ja_docs:
            write_docx(doc, Path(tmp) / f"{doc.stem}.docx", ja=True)
        soffice(sorted(Path(tmp).glob("*.docx")), jp)
    doc = ja_docs[0]
    scan(jp / f"{doc.stem}.pdf", js / f"{doc.stem}.pdf", doc.title, doc.publisher, doc.stem)
    for d in (dx, lo, rl, pp, ppdf, sc, ht, jp, js):
        print(f"{d.name:16} {len(list(d.iterdir()))} files {sum(f.stat().st_size for f in d.iterdir()) // 1024} KiB")


if __name__ == "__main__":
    main()
