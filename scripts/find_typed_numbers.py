#!/usr/bin/env python
"""List result numbers typed by hand into the prose a reader sees; exit 1 when there is one.

Every number a page shows as a result must come from code: a notebook cell's output, or a glued
value (``{glue:text}`name```). This script reads the prose of the book -- the markdown cells of
``notebooks/*.py`` and the pages ``book/*.md``, with every file they ``{include}`` -- and prints
``file:line: number  (context)`` for each number that looks like a typed result.

What is prose. Skipped: fenced code blocks and the bodies of the directives that hold code or
generated text (``code``, ``code-block``, ``code-cell``, ``math``, ``eval-rst``, ``raw``,
``bibliography``, ``claims-tally``, ...); directive option lines (``:class: note``); inline code
spans; math (``$...$``, ``$$...$$``, ``\\(...\\)``); every role with its content (``{glue:text}`...```,
``{cite:p}`...```, ``{math}`...```); link and image targets (``](...)``), URLs and HTML tags and
comments. The bodies of other directives (admonitions, notes, ``only``) are prose and are read.

The paper's numbers. A blockquote whose first line starts with ``The paper`` (``> The paper:
...``, emphasis allowed) quotes or reports the paper; its lines are skipped. Nothing else marks a
number as the paper's.

Which numbers are results. A result is a measurement, so the rules flag what measurements look
like and let settings and definitions pass:

* flagged: a number with a decimal part (``0.84``, ``-0.39``), a percentage (``75%``), a factor
  (``1.6x``, ``3× slower``; ``5 × 4``, a product of settings, passes), a duration (a number
  followed by a time unit: ``2 s``, ``13 min``, ``1-2 GPU-days``; in a range both ends), and a
  tally ``N of M`` / ``N of the M`` / ``N out of M`` (``18 of the 68``);
* not flagged: plain integers otherwise (settings and counts that define an experiment: ``8
  seeds``, ``3000 rows``, ``4 hops``); references (a number after ``Fig.``, ``Figs.``, ``Figure``,
  ``Sec.``, ``Section``, ``section``, ``Eq.``, ``Eqs.``, ``Equation``, ``Table``, ``Algorithm``,
  ``Appendix``, ``notebook``, ``issue``, ``page`` and the numbers listed after it: ``Sec. 4.2``,
  ``sections 01 and 03``); years (1950-2039) and ISO dates; version numbers after ``Python``,
  ``CUDA``, ``torch``, ``PyTorch``, ``Linux``, ``version``, ``License``, ``arXiv``; numbers joined to letters (names such
  as ``SDv1.4``, ``MBv3``, ``e3k3``, ``16x16``, ``top-1``, ``3-hop``, ``1st``); ordered-list
  markers and the numbers that lead a heading (``# 5. Stable Diffusion``).

A setting with a decimal part is written as the code that holds it (```WIDTHS = (0.8, 1.0,
1.2)```) or glued.

    .venv/bin/python scripts/find_typed_numbers.py            # the whole book
    .venv/bin/python scripts/find_typed_numbers.py notebooks/05_sd_inpainting.py book/intro.md
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Directives whose body is code, math or generated text, not prose.
SKIP_DIRECTIVES = {"code", "code-block", "code-cell", "sourcecode", "literalinclude", "math", "eval-rst", "raw",
                   "bibliography", "claims-tally", "claims-ledger", "glue:figure", "glue:math", "mermaid",
                   "include", "toctree", "tableofcontents"}

_REFERENCE = (r"(?:Figs?\.|Figures?|Secs?\.|Sections?|sections?|Eqs?\.|Equations?|equations?|Tables?|tables?"
              r"|Algorithms?|Appendix|notebooks?|Notebooks?|issues?|Issues?|pages?|Parts?|parts?)")
_VERSION = r"(?:Python|CUDA|torch|PyTorch|Linux|version|Version|License|arXiv)"
_NUM = r"[-+−]?\d[\d,]*(?:\.\d+)?"
#: A number: digits with thousands commas and a decimal part, not joined to a letter, digit, '_' or '.'.
NUMBER = re.compile(r"(?<![\w.])" + _NUM + r"(?![\w])(?!\.\d)")
#: A number listed after a reference word: ``Sec. 4.2``, ``sections 01, 02 and 03``, ``Figs. 5-6``.
REFERENCE = re.compile(_REFERENCE + r"\s*(?:~|\s)?" + r"\d[\w.]*(?:\s*(?:,|and|or|&|–|-|/|to)\s*\d[\w.]*)*")
VERSION = re.compile(_VERSION + r"\s+\d+(?:\.\d+)*")
DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
TIME_UNIT = (r"(?:s|sec|secs|seconds?|ms|µs|us|ns|min|mins|minutes?|h|hrs?|hours?|days?|weeks?|months?|years?"
             r"|(?:GPU|CPU|process|core|node)-(?:seconds?|minutes?|hours?|days?|years?))")
DURATION = re.compile(r"(?<![\w.])(" + _NUM + r")(?:\s*[–-]\s*(" + _NUM + r"))?\s*" + TIME_UNIT + r"(?![\w])")
FACTOR = re.compile(r"(?<![\w.])(" + _NUM + r")\s?[x×](?![\w])(?!\s*\d)")
TALLY = re.compile(r"(?<![\w./])(\d+)\s+(?:of|out of)\s+(?:the\s+)?(\d+)(?![\w.])")
PERCENT = re.compile(r"(?<![\w.])(" + _NUM + r")\s?%(?![^.;,)]{0,30}?(?:CI\b|interval|confidence|coverage))")

#: Spans that are not prose, in the order they are blanked: HTML comments, code spans, math, roles,
#: link targets, URLs, HTML tags.
_NOT_PROSE = [re.compile(p, re.S) for p in (
    r"<!--.*?-->", r"(`+).+?\1", r"\$\$.+?\$\$", r"(?<!\\)\$[^$\n]+?\$", r"\\\(.+?\\\)", r"\\\[.+?\\\]",
    r"\{[\w:.-]+\}`[^`]*`", r"\]\([^)]*\)", r"https?://\S+", r"<[^>\n]+>")]


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    number: str
    context: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.number}  ({self.context})"


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def prose_of(line: str) -> str:
    """``line`` with every span that is not prose replaced by spaces (columns kept)."""
    for pattern in _NOT_PROSE:
        for m in reversed(list(pattern.finditer(line))):
            line = _blank(line, *m.span())
    return line


def numbers_in(prose: str) -> list[str]:
    """The typed result numbers of one line of prose (see the module docstring for the rules)."""
    for pattern in (REFERENCE, VERSION, DATE):
        for m in reversed(list(pattern.finditer(prose))):
            prose = _blank(prose, *m.span())
    prose = re.sub(r"^\s*(?:#+\s*[\w.]+\.?|\d+[.)])(?=\s)", lambda m: " " * len(m.group()), prose)  # heading/list
    flagged: dict[int, str] = {}
    for m in NUMBER.finditer(prose):
        text = m.group()
        if "." in text:
            flagged[m.start()] = text
    for pattern in (DURATION, FACTOR, PERCENT, TALLY):
        for m in pattern.finditer(prose):
            for g in range(1, (m.lastindex or 0) + 1):
                if m.group(g) is not None and NUMBER.fullmatch(m.group(g)):
                    flagged[m.start(g)] = m.group(g)
    for start in list(flagged):  # a number joined to letters is a name, e.g. "top-1", "3-hop"
        end = start + len(flagged[start])
        joined = (start > 1 and prose[start - 1] in "-–" and prose[start - 2].isalpha()) or \
                 (end + 1 < len(prose) and prose[end] in "-–" and prose[end + 1].isalpha())
        year = re.fullmatch(r"(19[5-9]\d|20[0-3]\d)", flagged[start])
        if joined or year:
            del flagged[start]
    return [flagged[k] for k in sorted(flagged)]


def _fence(line: str):
    """``(char, length, info)`` of a fence line, else None."""
    m = re.match(r"^\s*(`{3,}|~{3,})\s*(.*)$", line)
    return (m.group(1)[0], len(m.group(1)), m.group(2).strip()) if m else None


def scan_markdown(text: str, path: str = "<text>", base: Path | None = None, _seen=None) -> list[Finding]:
    """Every typed result number in markdown ``text``; ``{include}`` directives are followed
    relative to ``base`` (the file's folder) when given."""
    seen = set() if _seen is None else _seen
    findings, stack = [], []  # stack: open fences (char, length, is_prose)
    in_quote = paper_quote = False
    for i, line in enumerate(text.splitlines(), 1):
        fence = _fence(line)
        if fence and stack and fence[0] == stack[-1][0] and fence[1] >= stack[-1][1] and not fence[2]:
            stack.pop()
            continue
        if fence and (not stack or stack[-1][2]):
            name = re.match(r"\{([^}]*)\}\s*(.*)", fence[2])
            prose = bool(name) and name.group(1) not in SKIP_DIRECTIVES
            if name and name.group(1) == "include" and base is not None:
                findings += _scan_file(base / name.group(2).strip(), seen)
            stack.append((fence[0], fence[1], prose))
            continue
        if stack and not stack[-1][2]:
            continue
        if stack and re.match(r"^\s*:[\w-]+:", line):  # a directive's option
            continue
        stripped = line.lstrip()
        if stripped.startswith(">"):
            if not in_quote:  # a new blockquote: the paper's if its first line says so
                paper_quote = stripped.lstrip("> ").lstrip("*_").startswith("The paper")
            in_quote = True
            if paper_quote:
                continue
        else:
            in_quote = paper_quote = False
        for number in numbers_in(prose_of(line)):
            findings.append(Finding(path, i, number, line.strip()[:100]))
    return findings


def markdown_of_notebook(source: str) -> str:
    """The markdown cells of a jupytext percent script, every other line blank (line numbers kept)."""
    out, markdown = [], False
    for line in source.splitlines():
        if line.startswith("# %%"):
            markdown = "[markdown]" in line
            out.append("")
        elif markdown and (line.startswith("# ") or line == "#"):
            out.append(line[2:])
        else:
            out.append("")
    return "\n".join(out)


def _scan_file(path: Path, seen: set) -> list[Finding]:
    path = path.resolve()
    if path in seen:
        return []
    seen.add(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file (named by an include or on the command line)")
    text = path.read_text(encoding="utf-8")
    shown = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
    if path.suffix == ".py":
        return scan_markdown(markdown_of_notebook(text), shown, None, seen)
    if path.suffix == ".md":
        return scan_markdown(text, shown, path.parent, seen)
    raise ValueError(f"{path}: not a notebook script (.py) or a markdown page (.md)")


def book_files(root: Path = ROOT) -> list[Path]:
    """The prose files of the book: ``notebooks/*.py`` and ``book/*.md``."""
    return sorted((root / "notebooks").glob("[0-9]*.py")) + sorted((root / "book").glob("*.md"))


def find_typed_numbers(paths=None, root: Path = ROOT) -> list[Finding]:
    """Every typed result number in ``paths`` (default :func:`book_files`), includes followed."""
    seen, findings = set(), []
    for path in (book_files(root) if paths is None else [Path(p) for p in paths]):
        findings += _scan_file(path if path.is_absolute() else root / path, seen)
    return findings


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        findings = find_typed_numbers(args or None)
    except ValueError as exc:
        print(f"find_typed_numbers: {exc}", file=sys.stderr)
        return 2
    for f in findings:
        print(f)
    print(f"{len(findings)} typed number(s)", file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
