"""The book as a reader meets it: checks over the HTML that `jupyter-book build` writes.

The module builds the book once, into a temporary folder (the build executes nothing: the
notebooks are stored executed; about a minute on 2 cores), then reads every page:

* no page links to a placeholder repository (``YOUR-ORG``): launch and repository buttons appear
  only once ``_config.yml`` names a real repository;
* MathJax is served from the book itself, and no page loads any script from the network;
* plotly.js is loaded exactly on the pages that draw plotly figures;
* no second (header) search field, no thebe scripts while thebe is off;
* what could be wider than a 390 px column is made to wrap or to scroll inside its own box: cell
  output lines wrap (``_static/autobuild.css``, linked from every page), every table and every
  code block sits in a box that scrolls;
* the home page shows the verdict tally, which agrees with ``figures/claims.csv``.

One check reads the stored notebooks instead (``test_no_progress_bars_in_stored_outputs``): no
tqdm progress bar in their outputs. It fails until the notebooks have been re-executed by
``scripts/run_notebooks.py``, which runs their kernels without progress bars.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from autobuild.book import sphinx_ext

ROOT = Path(__file__).resolve().parents[2]
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")
PLACEHOLDER = re.compile(r"YOUR[-_]ORG", re.IGNORECASE)
#: A tqdm bar as it is printed: "NN%|" then the bar; or its block characters.
PROGRESS_BAR = re.compile(r"\d+%\|[^|\n]*\||[█▉▊▋▌▍▎▏]{3}")
#: Characters of a monospaced line that fit a 390 px column (about 350 px of text at 14 px):
#: longer output lines must wrap, longer code lines scroll inside their own box.
PHONE_LINE = 40


class _Page(HTMLParser):
    """The parts of a page the checks need: links, scripts (with their ancestors' classes), tables
    and the text of each ``<pre>`` with whether it sits in a cell's output."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str]] = []  # (tag, class) of open elements
        self.links: list[str] = []  # href and src of a, link, script, img, iframe
        self.scripts: list[str] = []  # script src
        self.tables: list[list[str]] = []  # classes of the ancestors of each table
        self.pres: list[tuple[list[str], list[str]]] = []  # (ancestors' classes, text parts)
        self._pre: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("href", "src"):
            if attrs.get(key):
                self.links.append(attrs[key])
        if tag == "script" and attrs.get("src"):
            self.scripts.append(attrs["src"])
        classes = [c for _, cls in self.stack for c in cls.split()]
        if tag == "table":
            self.tables.append(classes)
        if tag == "pre":
            self._pre = []
            self.pres.append((classes, self._pre))
        if tag not in self.VOID:
            self.stack.append((tag, attrs.get("class") or ""))

    def handle_endtag(self, tag):
        if tag == "pre":
            self._pre = None
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if self._pre is not None:
            self._pre.append(data)


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    """The book built into a temporary folder; its ``_build/html``."""
    if not JUPYTER_BOOK.is_file():
        pytest.skip("jupyter-book is not installed (the [book] extra)")
    out = tmp_path_factory.mktemp("book")
    done = subprocess.run([str(JUPYTER_BOOK), "build", str(ROOT), "--path-output", str(out)],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    html = out / "_build" / "html"
    yield html
    shutil.rmtree(out, ignore_errors=True)


@pytest.fixture(scope="module")
def pages(book) -> dict[str, tuple[str, _Page]]:
    """Every content page (``book/`` and ``notebooks/``): its path from the book's root, text and parse."""
    found = {}
    for path in sorted(book.glob("*/*.html")):
        if path.parent.name in ("book", "notebooks"):
            text = path.read_text(encoding="utf-8")
            parsed = _Page()
            parsed.feed(text)
            found[path.relative_to(book).as_posix()] = (text, parsed)
    assert "book/intro.html" in found and "book/claims.html" in found
    return found


def test_every_chapter_of_the_toc_is_a_page(pages):
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    assert sorted(f"{f}.html" for f in files) == sorted(pages)


def test_no_page_links_to_a_placeholder_repository(book, pages):
    assert not sphinx_ext.is_real_repository("https://github.com/YOUR-ORG/autobuild-companion")
    for name, (text, page) in pages.items():
        bad = [link for link in page.links if PLACEHOLDER.search(link)]
        assert not bad, f"{name} links to a placeholder: {bad}"
        assert not PLACEHOLDER.search(text), f"{name} names the placeholder repository"
        for link in page.links:
            if re.match(r"https://(github\.com|colab\.research\.google\.com|mybinder\.org)/", link):
                repo = re.sub(r"^https://colab\.research\.google\.com/github/", "https://github.com/", link)
                repo = "/".join(repo.split("/")[:5])
                assert sphinx_ext.is_real_repository(repo), f"{name}: {link}"
    for other in ("index.html", "search.html", "genindex.html"):
        if (book / other).is_file():
            assert not PLACEHOLDER.search((book / other).read_text(encoding="utf-8")), other


@pytest.mark.parametrize("url, real", [
    ("https://github.com/YOUR-ORG/autobuild-companion", False),
    ("https://github.com/your_org/autobuild-companion", False),
    ("https://github.com/OWNER/REPO", False),
    ("https://example.com/someone/project", False),
    ("https://github.com/Ascend-Research/AutoBuild", True),
    ("https://gitlab.com/kgmills/autobuild-companion.git", True),
    ("http://github.com/someone/project", False),
    ("https://github.com/someone", False),
    ("", False),
    (None, False),
])
def test_real_repository(url, real):
    assert sphinx_ext.is_real_repository(url) is real


def _config(url):
    class Config:
        html_theme_options = {"repository_url": url, "use_repository_button": True,
                              "launch_buttons": {"colab_url": "https://colab.research.google.com",
                                                 "binderhub_url": "", "thebe": False}}

    class App:
        class tags:
            names: set[str] = set()

            @classmethod
            def add(cls, name):
                cls.names.add(name)

    return App, Config


def test_buttons_follow_the_repository_url():
    app, config = _config("https://github.com/YOUR-ORG/autobuild-companion")
    sphinx_ext._hide_placeholder_buttons(app, config)
    options = config.html_theme_options
    assert options["use_repository_button"] is False and options["repository_url"] == ""
    assert options["launch_buttons"]["colab_url"] == "" and "repository_published" not in app.tags.names

    app, config = _config("https://github.com/someone/autobuild-companion")
    sphinx_ext._hide_placeholder_buttons(app, config)
    options = config.html_theme_options
    assert options["use_repository_button"] is True
    assert options["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert "repository_published" in app.tags.names


def test_mathjax_is_served_by_the_book_and_no_script_comes_from_the_network(book, pages):
    with_math = []
    for name, (text, page) in pages.items():
        remote = [s for s in page.scripts if re.match(r"(https?:)?//", s)]
        assert not remote, f"{name} loads scripts from the network: {remote}"
        mathjax = [s for s in page.scripts if "mathjax" in s.lower()]
        if mathjax:
            with_math.append(name)
            for src in mathjax:
                local = (book / name).parent / src.split("?")[0]
                assert local.resolve().is_file(), f"{name}: {src} is not in the build"
                assert local.resolve().parent == (book / "_static" / "mathjax").resolve()
    # the home page writes $m$ and $\ell_1$; the API page carries Eq. 4 and Eq. 5
    assert "book/intro.html" in with_math and "book/api.html" in with_math
    fonts = book / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2"
    assert any(fonts.glob("*.woff")), "MathJax's fonts are missing from the build"


def test_plotly_is_loaded_exactly_where_a_page_draws_plotly(pages):
    drawing = set()
    for name, (text, page) in pages.items():
        draws = 'class="plotly-graph-div"' in text
        loads = any(s.split("?")[0].endswith("_static/plotly.min.js") for s in page.scripts)
        assert draws == loads, f"{name}: draws plotly {draws}, loads plotly.js {loads}"
        drawing |= {name} if draws else set()
    assert drawing, "no page draws a plotly figure"


def test_theme_has_one_search_field_no_thebe_and_a_valid_mode(pages):
    for name, (text, page) in pages.items():
        header = re.search(r'<header id="pst-header".*?</header>', text, re.S)
        assert header is None or "search" not in header.group(0), f"{name}: a search field in the header bar"
        assert "THEBE_JS_URL" not in text and "sphinx-thebe.js" not in text, name
        assert 'data-default-mode="auto"' in text, name


def test_wide_things_wrap_or_scroll_inside_their_own_box(book, pages):
    css = (book / "_static" / "autobuild.css").read_text(encoding="utf-8")
    squeezed = re.sub(r"\s+", " ", re.sub(r"/\*.*?\*/", "", css, flags=re.S))
    rule = re.search(r"div\.cell_output pre[^{]*\{([^}]*)\}", squeezed)
    assert rule and "white-space: pre-wrap" in rule.group(1) and "overflow-wrap: anywhere" in rule.group(1)
    assert re.search(r"\.bd-article pre \{[^}]*overflow-x: auto", squeezed)
    assert re.search(r"div\.cell_output \.output\.text_html \{[^}]*overflow-x: auto", squeezed)
    assert re.search(r"\.bd-article code\.literal[^{]*\{[^}]*overflow-wrap: anywhere", squeezed)
    assert re.search(r"\.bd-article div\.math[^{]*\{[^}]*overflow-x: auto", squeezed)
    for name, (text, page) in pages.items():
        assert any(link.split("?")[0].endswith("_static/autobuild.css") for link in page.links), name
        for ancestors in page.tables:
            assert {"pst-scrollable-table-container", "text_html"} & set(ancestors), \
                f"{name}: a table outside a scrolling box (inside {ancestors[-4:]})"
        for ancestors, parts in page.pres:
            if max(map(len, "".join(parts).splitlines()), default=0) <= PHONE_LINE:
                continue
            # a longer line wraps (a cell's output) or scrolls in the code block's own box
            assert "cell_output" in ancestors or any(c.startswith("highlight") for c in ancestors), \
                f"{name}: a <pre> with lines over {PHONE_LINE} characters outside an output or code box " \
                f"(inside {ancestors[-4:]})"


def test_the_ledger_is_laid_out_for_phones(pages, book):
    text, _ = pages["book/claims.html"]
    assert 'class="claims-ledger' in text
    js = (book / "_static" / "autobuild.js").read_text(encoding="utf-8")
    assert ".claims-ledger table" in js and "dataset.label" in js


def _strongest(frame):
    keys = ["section", "claim_id"] + (["method"] if "method" in frame.columns else [])
    return frame.assign(full=frame.profile == "full").sort_values("full", kind="stable") \
        .drop_duplicates(keys, keep="last")


def test_home_page_tally_agrees_with_the_ledger(pages):
    from autobuild.book.claims import read_claims

    strongest = _strongest(read_claims(ROOT / "figures" / "claims.csv"))
    text, _ = pages["book/intro.html"]
    tally = re.search(r'<div class="claims-tally[^"]*">(.*?)</table>', text, re.S)
    assert tally, "the home page has no verdict tally"
    rows = [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", tally.group(1), re.S)]
    header, body = rows[0], {row[0]: row[1:] for row in rows[1:]}
    assert header[0] == "verdict" and len(header) >= 2
    assert sum(int(n) for n in body["claims"]) == len(strongest)
    for word in set(strongest.verdict):
        assert sum(int(n) for n in body[word]) == int((strongest.verdict == word).sum()), word
    assert set(body) == set(strongest.verdict) | {"claims"}
    assert 'href="claims.html"' in text


def test_the_book_kernels_environment_silences_every_progress_bar():
    """``QUIET_PROGRESS`` (the stored notebooks' and nbval's kernels) hides bars whether or not the
    caller passes ``disable=False``, closed with or without ``leave``; without it they print."""
    import importlib.util
    import os

    spec = importlib.util.spec_from_file_location("run_notebooks", ROOT / "scripts" / "run_notebooks.py")
    run_notebooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_notebooks)
    code = ("from tqdm.auto import tqdm\n"
            "list(tqdm(range(3), desc='default'))\n"
            "list(tqdm(range(3), desc='asked', disable=False, leave=False))\n"
            "bar = tqdm(total=2, desc='manual', disable=False); bar.update(2); bar.close()\n")
    base = {k: v for k, v in os.environ.items() if not k.startswith("TQDM_")}
    loud = subprocess.run([sys.executable, "-c", code], env=base, capture_output=True, text=True, timeout=60)
    assert PROGRESS_BAR.search(loud.stderr) and "asked" in loud.stderr and "manual" in loud.stderr
    quiet = subprocess.run([sys.executable, "-c", code], env={**base, **run_notebooks.QUIET_PROGRESS},
                           capture_output=True, text=True, timeout=60)
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout == ""


def test_no_progress_bars_in_stored_outputs():
    """FAILS until the notebooks are re-executed (``scripts/run_notebooks.py --profile quick``):
    its kernels, and nbval's (``notebooks/conftest.py``), run with ``QUIET_PROGRESS``."""
    found = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for i, cell in enumerate(nb["cells"]):
            for out in cell.get("outputs", []):
                texts = [out.get("text", "")] + [v for k, v in out.get("data", {}).items() if k.startswith("text/")]
                for text in texts:
                    text = "".join(text) if isinstance(text, list) else text
                    if PROGRESS_BAR.search(text):
                        found.append(f"{path.name} cell {i}: {PROGRESS_BAR.search(text).group(0)!r}")
    assert not found, "progress bars in stored outputs:\n" + "\n".join(found)
