"""Write the repository URL of `_config.yml` (repository.url) into every notebook's Colab set-up cell.

The set-up cell installs the companion with `%pip install "autobuild[...] @ git+URL"`; Colab runs
a notebook alone, so the URL must be in the cell itself. Run this after changing repository.url:

    .venv/bin/python scripts/stamp_repo_url.py           # rewrite notebooks/*.py and *.ipynb
    .venv/bin/python scripts/stamp_repo_url.py --check   # exit 1 if a notebook carries another URL

The URL must have the form https://HOST/PATH (e.g. https://github.com/OWNER/REPO): letters,
digits and ``. _ -`` only, so that nothing in it can be expanded by a shell or by IPython
(``$``, backticks, ``{}``) or end the quoted string. Anything else is refused (exit 2) before any
file is touched. Only the URL text changes (notebooks are edited as JSON), so stored outputs stay
as they are; every new file is prepared and checked first, so a failure leaves all as they were.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
MAX_URL = 200  #: characters of a repository URL
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
#: https, a DNS host name (optional port), one or more path segments of safe characters.
URL_FORM = re.compile(rf"https://{_LABEL}(?:\.{_LABEL})+(?::[0-9]{{1,5}})?(?:/[A-Za-z0-9_-][A-Za-z0-9._-]*)+")
# The install line's URL: everything after "@ git+" up to the closing quote, a backslash or a blank.
_URL = re.compile(r'(@ git\+)([^"\\\s]*)')


class StampError(ValueError):
    """A `_config.yml` or notebook that cannot be stamped; the message names the file and field."""


def check_url(url, where: str = "repository.url") -> str:
    """``url`` without a trailing slash, if it has the form https://HOST/PATH; else :class:`StampError`."""
    if not isinstance(url, str):
        raise StampError(f"{where} must be an https URL such as https://github.com/OWNER/REPO; "
                         f"got {type(url).__name__} {str(url)[:80]!r}")
    url = url.rstrip("/")
    if len(url) > MAX_URL or not URL_FORM.fullmatch(url) or any(s in (".", "..") for s in url.split("/")[3:]):
        raise StampError(f"{where} must be an https URL such as https://github.com/OWNER/REPO (host and path of "
                         f"letters, digits and . _ - only, at most {MAX_URL} characters); got {url[:80]!r}"
                         f"{'…' if len(url) > 80 else ''}")
    assert shlex.quote(url) == url and json.dumps(url) == f'"{url}"'  # nothing to quote in either
    return url


def configured_url(root: Path = ROOT) -> str:
    """repository.url of the book's `_config.yml`, checked by :func:`check_url`."""
    path = Path(root) / "_config.yml"
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StampError(f"{path} does not exist; give the book's root with --root") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise StampError(f"{path} is not readable YAML ({type(exc).__name__}: {str(exc)[:200]})") from None
    repository = config.get("repository") if isinstance(config, dict) else None
    if not isinstance(repository, dict) or "url" not in repository:
        raise StampError(f"{path}: repository.url must be an https URL; the file has no mapping "
                         f"'repository' with a key 'url' (got repository: {str(repository)[:80]!r})")
    return check_url(repository["url"], f"{path}: repository.url")


def urls_in(text: str) -> list[str]:
    """The install URLs a notebook file carries."""
    return [m.group(2) for m in _URL.finditer(text)]


def stamp(text: str, url: str) -> str:
    """``text`` with every install URL replaced by ``url`` (which :func:`check_url` accepted)."""
    return _URL.sub(lambda m: m.group(1) + url, text)


def stamped_file(path: Path, url: str) -> str:
    """The new text of notebook file ``path``: a .py as text, an .ipynb as JSON (each cell source
    edited as a string, then written in nbformat's layout)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".ipynb":
        return stamp(text, url)
    try:
        nb = json.loads(text)
        cells = nb["cells"]
        for cell in cells:
            source = cell["source"]
            cell["source"] = [stamp(s, url) for s in source] if isinstance(source, list) else stamp(source, url)
    except (ValueError, KeyError, TypeError) as exc:
        raise StampError(f"{path} is not a valid notebook ({type(exc).__name__}: {str(exc)[:120]}); "
                         "restore it with git, then stamp again") from None
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def notebook_files(root: Path = ROOT) -> list[Path]:
    return sorted(p for ext in ("py", "ipynb") for p in (root / "notebooks").glob(f"[0-9][0-9]_*.{ext}"))


def _replace_all(new_texts: dict[Path, str]) -> None:
    """Write every file's new text to a temporary file beside it, then rename them all."""
    temps = {}
    try:
        for path, text in new_texts.items():
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.chmod(tmp, path.stat().st_mode & 0o777)
            temps[path] = tmp
        for path, tmp in temps.items():
            os.replace(tmp, path)
    finally:
        for tmp in temps.values():
            if os.path.exists(tmp):
                os.unlink(tmp)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only report notebooks whose URL differs")
    ap.add_argument("--root", type=Path, default=ROOT, help="the book's root (default: this repository)")
    args = ap.parse_args(argv)
    try:
        url = configured_url(args.root)
        files = notebook_files(args.root)
        if not files:
            raise StampError(f"{args.root / 'notebooks'} holds no notebook NN_*.py or NN_*.ipynb")
        new_texts = {p: stamped_file(p, url) for p in files}  # every file checked before any is replaced
        stale = [p for p in files if any(u != url for u in urls_in(p.read_text(encoding="utf-8")))]
        if not args.check:
            _replace_all({p: new_texts[p] for p in stale})
    except (StampError, OSError, UnicodeDecodeError) as exc:
        print(f"stamp_repo_url: error: {exc}", file=sys.stderr)
        return 2
    for path in stale:
        print(f"{'differs' if args.check else 'stamped'}: {path.relative_to(args.root)}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
