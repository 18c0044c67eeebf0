"""The book's Sphinx extension (``_config.yml``: ``sphinx.extra_extensions``).

* The ``{claims-ledger}`` directive renders ``figures/claims.csv`` (written by the notebooks
  through :mod:`autobuild.book.claims`) as a table at build time, so the ledger page never goes
  stale and needs no execution: one row per claim, one column per method (the paper's, ours, a
  control, no predictor) holding that method's verdict on its strongest evidence and naming its
  profile, each row linking to its section's page.
* The ``{claims-tally}`` directive renders the same file as a verdict tally per method (paper /
  ours / control / no predictor), each claim counted once per method, on its strongest evidence
  (its full-profile row where one exists, else its quick one).
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


#: A ledger column's heading for each method.
METHOD_HEADINGS = {"paper": "the paper's method", "ours": "ours", "control": "control",
                   "no predictor": "no predictor"}


def section_label(section: str, sections) -> str:
    """The short label of ``section`` (a notebook's name) among ``sections``: its two digits, and
    for the second, third, ... notebook sharing them (in name order) the number and ``b``, ``c``, ...
    (``02_score_quality`` beside ``02_magnitude_ranked_embeddings`` is ``2b``)."""
    prefix = section[:2]
    same = sorted({s for s in sections if s[:2] == prefix} | {section})
    i = same.index(section)
    return prefix if i == 0 else f"{int(prefix)}{chr(ord('a') + i)}"


def _evidence(rows) -> str:
    """One method's cell: its strongest row's verdict, profile, value and interval; below it the
    quick row's verdict where a full one was counted."""
    from autobuild.book.claims import strongest

    best = strongest(rows).iloc[0]
    text = f"**{_cell(best.verdict)}** ({best.profile})"
    if best.ours != "—":
        text += " " + _cell(best.ours) + ("" if best.interval in ("—", best.ours) else f", {_cell(best.interval)}")
    quick = rows[(rows.profile == "quick") & (best.profile == "full")]
    if len(quick):
        q = quick.iloc[0]
        text += f"; quick run: {_cell(q.verdict)}" + ("" if q.ours == "—" else f" {_cell(q.ours)}")
    return text


def ledger_markdown(frame, page_of) -> str:
    """The ledger as a MyST table, one row per claim: section (link), the claim (with the paper's
    value and the target of its threshold), then one column per method the ledger holds, in the
    order of :data:`autobuild.book.claims.METHODS`, each with that method's :func:`_evidence`
    (empty where the claim has no row of that method). ``page_of(section)`` gives the docname a
    section's rows link to."""
    from autobuild.book.claims import COLUMNS, METHODS

    if tuple(frame.columns) != COLUMNS:
        raise ValueError(f"the ledger needs the columns {', '.join(COLUMNS)}")
    methods = [m for m in METHODS if (frame.method == m).any()]
    sections = set(frame.section)
    head = ["section", "claim"] + [METHOD_HEADINGS[m] for m in methods]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (section, _), rows in frame.groupby(["section", "claim_id"], sort=False):
        first = rows.iloc[0]
        targets = " / ".join(_cell(t) for t in dict.fromkeys(rows.target))
        claim = f"{_cell(first.claim)} *Paper:* {_cell(first.paper)}. *Target:* {targets}."
        cells = [f"{{doc}}`{section_label(section, sections)} </{page_of(section)}>`", claim]
        cells += [_evidence(rows[rows.method == m]) if (rows.method == m).any() else "" for m in methods]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ledger_counts(frame) -> str:
    """One sentence: how many claims from how many sections, and how many rows of each method."""
    from autobuild.book.claims import METHODS

    n = frame.drop_duplicates(["section", "claim_id"])
    rows = [f"{int((frame.method == m).sum())} {METHOD_HEADINGS[m]}" for m in METHODS if (frame.method == m).any()]
    return (f"{len(n)} claims from {n.section.nunique()} sections, in {len(frame)} rows "
            f"(" + ", ".join(rows) + ").")


def verdict_tally(frame) -> str:
    """The verdict tally as a MyST table, narrow enough for a phone: one row per verdict word and a
    last row with the number of claims, one column per method (paper, ours, control, no
    predictor). Each claim counts once per method, with the verdict of its strongest evidence
    (:func:`autobuild.book.claims.strongest`); the note under the table names the profiles counted."""
    from autobuild.book.claims import METHODS, VERDICTS, strongest

    if frame.empty:
        raise ValueError("the ledger has no claims to tally")
    best = strongest(frame)
    words = [v for v in VERDICTS if (best.verdict == v).any()]
    lines = ["| verdict | " + " | ".join(METHODS) + " |", "|---|" + "---:|" * len(METHODS)]
    for word in words:
        lines.append(f"| {_cell(word)} | " + " | ".join(str(int(((best.method == m) & (best.verdict == word)).sum()))
                                                    for m in METHODS) + " |")
    lines.append("| **claims** | " + " | ".join(f"**{int((best.method == m).sum())}**" for m in METHODS) + " |")
    n_full = int((best.profile == "full").sum())
    note = (f"Each claim counted once per method, on its strongest evidence: {n_full} on a stored "
            f"full-profile run, {len(best) - n_full} on the quick profile this book is executed with.")
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
