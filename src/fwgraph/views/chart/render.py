"""The comparison chart's renderers: a wrapped text table for terminals, Markdown, CSV, JSON and HTML."""

from __future__ import annotations

import csv
import io
import json
import re
import textwrap
from collections.abc import Callable
from typing import Any

from fwgraph.core import markup
from fwgraph.views.chart.tables import FORMATS, ChartError, Table

# --------------------------------------------------------------------------------------------
# Renderers
# --------------------------------------------------------------------------------------------

def _marked(table: Table) -> list[list[str]]:
    """Cell texts with footnote markers "[n]" appended to disputed cells."""
    n = 0
    out = []
    for row in table.rows:
        texts = []
        for cell in row:
            marks = []
            for _ in cell.disputes:
                n += 1
                marks.append(str(n))
            texts.append(cell.text + (f" [{','.join(marks)}]" if marks else ""))
        out.append(texts)
    return out


def _footnote_lines(table: Table) -> list[str]:
    lines = []
    for n, row, col, d in table.footnotes():
        text = f"[{n}] {row}, {col}: {d.summary()}."
        if d.comment:
            text += " " + d.comment
        lines.append(text)
        lines.extend(f"    {s}" for s in d.sources)
    return lines


_BREAK = re.compile(r"\S+?(?:[/,-](?=\S)|(?=\s)|$)")


def _wrap(text: str, width: int) -> list[str]:
    """Greedy wrap that may break after "/", "," and "-" and hard-breaks words longer than ``width``."""
    lines: list[str] = []
    for para in text.split("\n"):
        line = ""
        for m in re.finditer(r"(\s*)(\S+)", para):
            space, word = m.group(1), m.group(2)
            for k, piece in enumerate(_BREAK.findall(word)):
                glue = " " if (k == 0 and space and line) else ""
                if len(line) + len(glue) + len(piece) <= width:
                    line += glue + piece
                    continue
                if line:
                    lines.append(line)
                line = ""
                while len(piece) > width:
                    lines.append(piece[:width])
                    piece = piece[width:]
                line = piece
        lines.append(line)
    return lines or [""]


def _wrap_block(text: str, width: int, indent: str = "") -> list[str]:
    return textwrap.wrap(text, width, subsequent_indent=indent, break_long_words=True,
                         break_on_hyphens=False) or [""]


def render_table(table: Table, width: int = 80) -> str:
    """A plain-text table that fits ``width`` columns: cells wrap; URLs are abbreviated with a legend."""
    texts = _marked(table)
    legend: list[str] = []
    short: dict[str, str] = {}
    for row in texts:
        for j, t in enumerate(row):
            if re.fullmatch(r"https?://\S+(?: \[[\d,]+\])?", t):
                url, _, mark = t.partition(" ")
                if url not in short:
                    short[url] = f"~{len(short) + 1}"
                    legend.append(f"{short[url]:<4} {url}")
                row[j] = short[url] + (f" {mark}" if mark else "")
    headers = [c.title for c in table.columns]
    out = [table.title if len(table.title) <= width else table.title[: width - 1] + "…", ""]
    for k, group in enumerate(_column_groups(headers, texts, width)):
        if k:
            out.append("")
        out += _block([headers[j] for j in group], [[r[j] for j in group] for r in texts], width)
    if legend:
        out += ["", "Links:"] + [ln for item in legend for ln in _wrap_block(item, width, " " * 5)]
    if table.notes:
        out.append("")
        out += [ln for note in table.notes for ln in _wrap_block(note, width, "  ")]
    foot = _footnote_lines(table)
    if foot:
        out += ["", "Where the chart differs from today:"]
        for f in foot:
            if f.startswith("    "):  # a source URL: on its own line, indented as far as it fits
                url = f.strip()
                pad = max(0, min(4, width - len(url)))
                out += [" " * pad + url[i:i + width - pad] for i in range(0, len(url), width - pad)]
            else:
                out += _wrap_block(f, width, "    ")
    return "\n".join(out) + "\n"


_GAP = 2
_COMFORT = 28  # a column wider than this wraps rather than push other columns into another block


def _column_groups(headers: list[str], texts: list[list[str]], width: int) -> list[list[int]]:
    """Split the columns into blocks that fit ``width``, each block led by the first column."""
    natural = [max(len(x) for x in [headers[j]] + [r[j] for r in texts]) for j in range(len(headers))]
    cap = [min(n, _COMFORT) for n in natural]
    groups: list[list[int]] = []
    cur = [0]
    for j in range(1, len(headers)):
        if len(cur) > 1 and sum(cap[k] for k in cur + [j]) + _GAP * len(cur) > width:
            groups.append(cur)
            cur = [0]
        cur.append(j)
    groups.append(cur)
    return groups


def _block(headers: list[str], texts: list[list[str]], width: int) -> list[str]:
    """One block of columns, wrapped to fit ``width``."""
    ncol = len(headers)
    avail = width - _GAP * (ncol - 1)
    natural = [max(len(x) for x in [headers[j]] + [r[j] for r in texts]) for j in range(ncol)]

    def longest_word(s: str) -> int:
        return max((len(p) for p in _BREAK.findall(s)), default=0)

    minimum = [max(3, min(14, max(longest_word(x) for x in [headers[j]] + [r[j] for r in texts])))
               for j in range(ncol)]
    while sum(minimum) > avail and max(minimum) > 3:
        minimum[minimum.index(max(minimum))] -= 1
    widths = list(minimum)
    spare = avail - sum(widths)
    while spare > 0:
        grow = [j for j in range(ncol) if widths[j] < natural[j]]
        if not grow:
            break
        j = max(grow, key=lambda j: (natural[j] - widths[j]) / natural[j])  # the most squeezed column
        widths[j] += 1
        spare -= 1

    def line(cells: list[list[str]]) -> list[str]:
        height = max(len(c) for c in cells)
        return [(" " * _GAP).join((c[i] if i < len(c) else "").ljust(widths[j])
                                  for j, c in enumerate(cells)).rstrip() for i in range(height)]

    out = line([_wrap(h, widths[j]) for j, h in enumerate(headers)])
    out.append((" " * _GAP).join("-" * w for w in widths))
    for row in texts:
        out += line([_wrap(t, widths[j]) for j, t in enumerate(row)])
    return out


def _md_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_markdown(table: Table) -> str:
    """A GitHub-flavoured Markdown table; "|" in cells is escaped; notes and footnotes follow as a list."""
    texts = _marked(table)
    lines = ["| " + " | ".join(_md_escape(c.title) for c in table.columns) + " |",
             "| " + " | ".join("---" for _ in table.columns) + " |"]
    lines += ["| " + " | ".join(_md_escape(t) for t in row) + " |" for row in texts]
    extra = [f"- {_md_escape(n)}" for n in table.notes]
    for n, row, col, d in table.footnotes():
        srcs = ", ".join(f"<{s}>" for s in d.sources)
        extra.append(f"- \\[{n}\\] {_md_escape(row)}, {_md_escape(col)}: {_md_escape(d.summary())}. "
                     f"{_md_escape(d.comment)} Sources: {srcs}".rstrip())
    if extra:
        lines += [""] + extra
    return "\n".join(lines) + "\n"


def render_csv(table: Table) -> str:
    """CSV: a header row of column titles, then one row of cell texts per subject (no footnote markers)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([c.title for c in table.columns])
    for row in table.rows:
        writer.writerow([cell.text for cell in row])
    return buf.getvalue()


def render_json(table: Table) -> str:
    return json.dumps(table.to_json(), ensure_ascii=False, indent=2) + "\n"


def render_html(table: Table, link: Callable[[str], str] | None = None, *, sortable: bool = False) -> str:
    """An HTML fragment: a <table> whose values link (through ``link``) and whose disputes are shown inline
    (templates/chart.html)."""
    notes = {id(d): n for n, _, _, d in table.footnotes()}
    rows = [(subject, list(zip(table.columns, row, strict=True)))
            for subject, row in zip(table.subjects, table.rows, strict=True)]
    return markup.render("chart.html", table=table, rows=rows, link=link or (lambda iri: iri), sortable=sortable,
                         number=lambda d: notes[id(d)])


def render(table: Table, fmt: str, **kwargs: Any) -> str:
    """Render ``table`` as table, markdown, csv, html or json."""
    if fmt == "table":
        return render_table(table, **kwargs)
    if fmt == "markdown":
        return render_markdown(table)
    if fmt == "csv":
        return render_csv(table)
    if fmt == "html":
        return render_html(table, **kwargs)
    if fmt == "json":
        return render_json(table)
    raise ChartError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
