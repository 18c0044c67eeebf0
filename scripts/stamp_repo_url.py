"""Write the repository URL of `_config.yml` (repository.url) into every notebook's Colab set-up cell.

The set-up cell installs the companion with `%pip install "autobuild[...] @ git+URL"`; Colab runs
a notebook alone, so the URL must be in the cell itself. Run this after changing repository.url:

    .venv/bin/python scripts/stamp_repo_url.py           # rewrite notebooks/*.py and *.ipynb
    .venv/bin/python scripts/stamp_repo_url.py --check   # exit 1 if a notebook carries another URL

Only the URL text changes, so the notebooks' stored outputs stay as they are.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# The install line's URL, in a .py (plain text) or an .ipynb (JSON string): up to the closing quote.
_URL = re.compile(r'(@ git\+)(https?://[^"\\\s]+)')


def configured_url(root: Path = ROOT) -> str:
    """repository.url of the book's `_config.yml`."""
    url = (yaml.safe_load((root / "_config.yml").read_text()) or {}).get("repository", {}).get("url")
    if not isinstance(url, str) or not re.fullmatch(r"https?://\S+", url):
        raise ValueError(f"{root / '_config.yml'}: repository.url must be an http(s) URL; got {url!r}")
    return url.rstrip("/")


def urls_in(text: str) -> list[str]:
    """The install URLs a notebook file carries."""
    return [m.group(2) for m in _URL.finditer(text)]


def stamp(text: str, url: str) -> str:
    """``text`` with every install URL replaced by ``url``."""
    return _URL.sub(lambda m: m.group(1) + url, text)


def notebook_files(root: Path = ROOT) -> list[Path]:
    return sorted(p for ext in ("py", "ipynb") for p in (root / "notebooks").glob(f"[0-9][0-9]_*.{ext}"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only report notebooks whose URL differs")
    ap.add_argument("--root", type=Path, default=ROOT, help="the book's root (default: this repository)")
    args = ap.parse_args(argv)
    url = configured_url(args.root)
    stale = []
    for path in notebook_files(args.root):
        text = path.read_text()
        if any(u != url for u in urls_in(text)):
            stale.append(path)
            if not args.check:
                path.write_text(stamp(text, url))
    for path in stale:
        print(f"{'differs' if args.check else 'stamped'}: {path.relative_to(args.root)}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
