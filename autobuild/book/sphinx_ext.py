"""The book's Sphinx extension (``_config.yml``: ``sphinx.extra_extensions``).

* The ``{claims-ledger}`` directive renders ``figures/claims.csv`` (written by the notebooks
  through :mod:`autobuild.book.claims`) as a table at build time, so the ledger page never goes
  stale and needs no execution: one row per claim, our quick-profile value (with its interval)
  beside the stored full-profile one where a full run exists, each linking to its section's page.
* The ``{claims-tally}`` directive renders the same file as a verdict tally per method (one column
  per value of a ``method`` column where the file has one, else one column for all claims), each
  claim counted once, on its strongest evidence (its full-profile row where one exists).
* plotly.js, copied from the installed ``plotly`` package, is loaded on the pages that draw
  plotly figures (and only there), so the interactive figures of :mod:`autobuild.book.interactive`
  draw offline.
* Launch (Colab, Binder, ...) and repository buttons appear only when ``repository.url`` of
  ``_config.yml`` names a real repository (:func:`is_real_repository`); while it is a placeholder
  such as ``YOUR-ORG`` they are switched off, so no page links to it.
* With thebe switched off (``launch_buttons.thebe``), sphinx-thebe's scripts and configuration are
  left out of the pages (it declared ``THEBE_JS_URL`` twice on every page).
"""
from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

VERDICT_ORDER = ("agrees", "differs", "inconclusive", "not testable offline")

#: Owner or repository names that stand for "not published yet".
_PLACEHOLDER = re.compile(r"your[-_]?(org|owner|name|user|repo)|^(owner|org|user|username|example|repo|name)$",
                          re.IGNORECASE)
#: https://HOST/OWNER/REPO, optionally .git or a trailing slash.
_REPOSITORY = re.compile(r"https://([A-Za-z0-9.-]+\.[A-Za-z]{2,})/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?")


def is_real_repository(url) -> bool:
    """Whether ``url`` names a repository a button may link to: ``https://HOST/OWNER/REPO`` whose
    owner and name are not placeholders (``YOUR-ORG``, ``OWNER``, ``example``, ...) and whose host
    is not an example domain."""
    match = _REPOSITORY.fullmatch(url.strip()) if isinstance(url, str) else None
    if match is None:
        return False
    host, owner, repo = match.groups()
    if host.lower().split(".")[-2:-1] == ["example"]:
        return False
    return not any(_PLACEHOLDER.search(part) for part in (owner, repo))


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


def verdict_tally(frame) -> str:
    """The verdict tally as a MyST table, narrow enough for a phone: one row per verdict word and a
    last row with the number of claims, one column per method (the ``method`` column where the
    ledger has one, else one column "all claims"). Each claim counts once, with the verdict of its
    full-profile row where one exists, else its quick one."""
    if frame.empty:
        raise ValueError("the ledger has no claims to tally")
    keys = ["section", "claim_id"] + (["method"] if "method" in frame.columns else [])
    ranked = frame.assign(_full=(frame.profile == "full"))
    strongest = ranked.sort_values("_full", kind="stable").drop_duplicates(keys, keep="last")
    methods = strongest["method"].astype(str) if "method" in strongest.columns else "all claims"
    by_method = dict(list(strongest.assign(_method=methods).groupby("_method", sort=False)))
    order = dict.fromkeys(frame["method"].astype(str)) if "method" in frame.columns else by_method
    groups = [(m, by_method[m]) for m in order]  # methods in the ledger's order
    words = [v for v in VERDICT_ORDER if (strongest.verdict == v).any()]
    words += sorted(set(strongest.verdict) - set(words))
    lines = ["| verdict | " + " | ".join(_cell(m) for m, _ in groups) + " |", "|---|" + "---:|" * len(groups)]
    for word in words:
        lines.append(f"| {_cell(word)} | " + " | ".join(str(int((rows.verdict == word).sum())) for _, rows in groups)
                     + " |")
    lines.append("| **claims** | " + " | ".join(f"**{len(rows)}**" for _, rows in groups) + " |")
    n_full = int(strongest._full.sum())
    note = (f"Each claim counted once: {n_full} on a stored full-profile run, {len(strongest) - n_full} "
            f"on the quick profile this book is executed with.")
    return "\n".join(lines) + "\n\n" + note


def _read_ledger(directive):
    """The ledger CSV a directive names (its optional argument, from the book's root), read."""
    from autobuild.book.claims import read_claims

    env = directive.state.document.settings.env
    path = Path(env.srcdir) / (directive.arguments[0] if directive.arguments else "figures/claims.csv")
    env.note_dependency(str(path))
    if not path.is_file():
        raise directive.error(f"{directive.name}: {path} does not exist; run the notebooks first")
    return path, read_claims(path)


def _tally_directive():
    from docutils import nodes
    from docutils.parsers.rst import Directive
    from docutils.statemachine import StringList

    class ClaimsTally(Directive):
        """``{claims-tally}`` with one optional argument, the CSV's path from the book's root."""

        optional_arguments = 1

        def run(self):
            path, frame = _read_ledger(self)
            try:
                text = verdict_tally(frame)
            except ValueError as exc:
                raise self.error(f"claims tally: {exc} ({path})") from exc
            holder = nodes.container(classes=["claims-tally"])
            self.state.nested_parse(StringList(text.splitlines(), source=str(path)), self.content_offset, holder)
            return [holder]

    return ClaimsTally


def _directive():
    from docutils import nodes
    from docutils.parsers.rst import Directive
    from docutils.statemachine import StringList

    class ClaimsLedger(Directive):
        """``{claims-ledger}`` with one optional argument, the CSV's path from the book's root."""

        optional_arguments = 1

        def run(self):
            env = self.state.document.settings.env
            path, frame = _read_ledger(self)
            docs = set(env.found_docs)

            def page_of(section: str) -> str:
                doc = f"notebooks/{section}"
                if doc not in docs:
                    raise self.error(f"claims ledger: section {section!r} has no page {doc}")
                return doc

            text = ledger_counts(frame) + "\n\n" + ledger_markdown(frame, page_of)
            holder = nodes.container(classes=["claims-ledger"])  # the class _static/autobuild.css lays out on phones
            self.state.nested_parse(StringList(text.splitlines(), source=str(path)), self.content_offset, holder)
            return [holder]

    return ClaimsLedger


def _add_plotly(app) -> None:
    import plotly

    src = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    static = Path(app.outdir).parent / "_plotly_static"
    static.mkdir(parents=True, exist_ok=True)
    if not (static / src.name).is_file() or (static / src.name).stat().st_size != src.stat().st_size:
        shutil.copyfile(src, static / src.name)
    app.config.html_static_path.append(str(static))


def _hide_placeholder_buttons(app, config) -> None:
    """Switch off the launch and repository buttons while ``repository.url`` is no real repository;
    once it is one, set the tag ``repository_published`` (for ``{only}`` blocks such as the home
    page's Colab route)."""
    options = config.html_theme_options
    if is_real_repository(options.get("repository_url")):
        app.tags.add("repository_published")
        return
    for button in ("use_repository_button", "use_issues_button", "use_edit_page_button", "use_source_button"):
        options[button] = False
    launch = dict(options.get("launch_buttons") or {})
    for key in list(launch):
        if key.endswith("_url"):
            launch[key] = ""
    launch["thebe"] = False
    options["launch_buttons"] = launch
    options["repository_url"] = ""


def _thebe_on(app) -> bool:
    return bool((app.config.html_theme_options.get("launch_buttons") or {}).get("thebe"))


def _drop_thebe_config(app, doctree, docname) -> None:
    """Without thebe, the per-page thebe configuration sphinx-thebe appends has nothing to configure."""
    from docutils import nodes

    if _thebe_on(app):
        return
    for node in list(doctree.findall(nodes.raw)):
        if node.get("format") == "html" and ("text/x-thebe-config" in node.astext()
                                             or node.astext().startswith("<script>kernelName")):
            node.parent.remove(node)


def _page_scripts(app, pagename, templatename, context, doctree) -> None:
    """plotly.js on pages that draw a plotly figure; no thebe scripts while thebe is off."""
    scripts = context.get("script_files")
    if scripts is not None and not _thebe_on(app):
        def thebe(js) -> bool:
            name = str(getattr(js, "filename", None) or "")
            return name.endswith("sphinx-thebe.js") or "THEBE_JS_URL" in getattr(js, "attributes", {}).get("body", "")

        scripts[:] = [js for js in scripts if not thebe(js)]
    if 'class="plotly-graph-div"' in context.get("body", ""):
        app.add_js_file("plotly.min.js")


def setup(app):
    app.add_directive("claims-ledger", _directive())
    app.add_directive("claims-tally", _tally_directive())
    app.connect("config-inited", _hide_placeholder_buttons, priority=900)
    app.connect("builder-inited", _add_plotly)
    app.connect("doctree-resolved", _drop_thebe_config, priority=900)
    app.connect("html-page-context", _page_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
