"""The book's Sphinx extension (``_config.yml``: ``sphinx.extra_extensions``).

* The ``{claims-ledger}`` directive renders ``figures/claims.csv`` (written by the notebooks
  through :mod:`autobuild.book.claims`) as a table at build time, so the ledger page never goes
  stale and needs no execution: one row per claim, our quick-profile value (with its interval)
  beside the stored full-profile one where a full run exists, each linking to its section's page.
* plotly.js, copied from the installed ``plotly`` package, is loaded on every page, so the
  interactive figures of :mod:`autobuild.book.interactive` draw offline.
"""
from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

VERDICT_ORDER = ("agrees", "differs", "inconclusive", "not testable offline")


#: Markdown characters that could start a link, emphasis, math, a role or a directive in a cell.
_MARKDOWN = re.compile(r"([\\*_\[\]{}$#!~])")


def _cell(text: str) -> str:
    """A table cell's text as literal text: one line, HTML escaped (``<`` ``>`` ``&``), with MyST's
    table, role, link, emphasis and math characters escaped."""
    text = html.escape(" ".join(str(text).split()), quote=False)
    return _MARKDOWN.sub(r"\\\1", text).replace("|", "\\|").replace("`", "'") or "—"


def ledger_markdown(frame, page_of) -> str:
    """The ledger as a MyST table: section (link), claim, paper, ours (quick) with its interval,
    ours (full) where any stored full run exists, verdict. ``page_of(section)`` gives the docname
    a section's rows link to."""
    from autobuild.book.claims import COLUMNS

    if tuple(frame.columns) != COLUMNS:
        raise ValueError(f"the ledger needs the columns {', '.join(COLUMNS)}")
    with_full = (frame.profile == "full").any()

    def ours(row) -> str:
        return _cell(row.ours) + ("" if row.interval in ("—", row.ours) else f" ({_cell(row.interval)})")

    head = ["section", "claim", "paper", "ours (quick)"] + (["ours (full)"] if with_full else []) + ["verdict"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (section, _), rows in frame.groupby(["section", "claim_id"], sort=False):
        by = rows.set_index("profile")
        main = by.loc["quick"] if "quick" in by.index else by.iloc[0]
        full = by.loc["full"] if "full" in by.index else None
        verdict = f"**{_cell(main.verdict)}**" + (f" (full: **{_cell(full.verdict)}**)" if full is not None else "")
        cells = [f"{{doc}}`{section[:2]} </{page_of(section)}>`", _cell(main.claim), _cell(main.paper), ours(main)]
        if with_full:
            cells.append(ours(full) if full is not None else "—")
        lines.append("| " + " | ".join(cells + [verdict]) + " |")
    return "\n".join(lines)


def ledger_counts(frame) -> str:
    """One sentence: how many claims, and how many of each verdict (quick profile)."""
    first = frame.drop_duplicates(["section", "claim_id"])
    counts = first.verdict.value_counts()
    parts = [f"{int(counts[v])} {v}" for v in VERDICT_ORDER if v in counts]
    return f"{len(first)} claims from {first.section.nunique()} sections: " + ", ".join(parts) + "."


def _directive():
    from docutils import nodes
    from docutils.parsers.rst import Directive
    from docutils.statemachine import StringList

    class ClaimsLedger(Directive):
        """``{claims-ledger}`` with one optional argument, the CSV's path from the book's root."""

        optional_arguments = 1

        def run(self):
            from autobuild.book.claims import read_claims

            env = self.state.document.settings.env
            path = Path(env.srcdir) / (self.arguments[0] if self.arguments else "figures/claims.csv")
            env.note_dependency(str(path))
            if not path.is_file():
                raise self.error(f"claims ledger: {path} does not exist; run the notebooks first")
            frame = read_claims(path)
            docs = set(env.found_docs)

            def page_of(section: str) -> str:
                doc = f"notebooks/{section}"
                if doc not in docs:
                    raise self.error(f"claims ledger: section {section!r} has no page {doc}")
                return doc

            text = ledger_counts(frame) + "\n\n" + ledger_markdown(frame, page_of)
            holder = nodes.container()
            self.state.nested_parse(StringList(text.splitlines(), source=str(path)), self.content_offset, holder)
            return holder.children

    return ClaimsLedger


def _add_plotly(app) -> None:
    import plotly

    src = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    static = Path(app.outdir).parent / "_plotly_static"
    static.mkdir(parents=True, exist_ok=True)
    if not (static / src.name).is_file() or (static / src.name).stat().st_size != src.stat().st_size:
        shutil.copyfile(src, static / src.name)
    app.config.html_static_path.append(str(static))


def setup(app):
    app.add_directive("claims-ledger", _directive())
    app.connect("builder-inited", _add_plotly)
    app.add_js_file("plotly.min.js")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
