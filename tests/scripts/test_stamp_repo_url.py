"""scripts/stamp_repo_url.py under hostile `_config.yml` files: nothing runs, nothing breaks."""
import importlib.util
import json
import shutil
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("stamp_repo_url", ROOT / "scripts" / "stamp_repo_url.py")
stamp_repo_url = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(stamp_repo_url)


@pytest.fixture
def book(tmp_path):
    """A book root with two notebooks (both files of each pair) and the repository's `_config.yml`."""
    (tmp_path / "notebooks").mkdir()
    for name in ("01_graph_encodings", "05_sd_inpainting"):
        for ext in (".py", ".ipynb"):
            shutil.copy(ROOT / "notebooks" / f"{name}{ext}", tmp_path / "notebooks")
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")
    return tmp_path


def _set_url(book, url):
    config = yaml.safe_load((book / "_config.yml").read_text())
    config["repository"]["url"] = url
    (book / "_config.yml").write_text(yaml.safe_dump(config))


def _files(book):
    return {p.name: p.read_bytes() for p in sorted((book / "notebooks").iterdir())}


HOSTILE_URLS = [
    "https://github.com/o/r$(touch${IFS}pwned)",
    "https://github.com/o/r`touch pwned`",
    "https://github.com/o/{__import__('os').mkdir('pwned')}",
    'https://github.com/o/r" ; touch pwned ; "',
    "https://github.com/o/r\"",
    "https://github.com/o/r\\u0022",
    "https://github.com/o/r\nimport os",
    "https://github.com/o/r'x",
    "https://github.com/o/r;id",
    "https://github.com/o/r|id",
    "https://github.com/o/r&&id",
    "https://github.com/o/r?x=1",
    "https://github.com/o/r#frag",
    "https://user@github.com/o/r",
    "http://github.com/o/r",
    "git://github.com/o/r",
    "file:///etc/passwd",
    "https://github.com",
    "https://github.com/../../etc",
    "https://gith$ub.com/o/r",
    "https:///o/r",
    "https://github.com/o/r " + "x",
    "https://github.com/" + "a" * 300,
]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_a_hostile_url_is_refused_and_every_notebook_stays_as_it_was(url, book, capsys):
    _set_url(book, url)
    before = _files(book)
    assert stamp_repo_url.main(["--root", str(book)]) == 2
    err = capsys.readouterr().err
    assert "stamp_repo_url: error:" in err and "repository.url must be an https URL" in err
    assert _files(book) == before
    assert not (book / "pwned").exists() and not Path("pwned").exists()


def test_a_literal_quote_from_a_yaml_escape_is_refused(book, capsys):
    text = (book / "_config.yml").read_text().replace("url: https://github.com/YOUR-ORG/autobuild-companion",
                                                      'url: "https://github.com/o/r\\u0022"')
    (book / "_config.yml").write_text(text)
    assert stamp_repo_url.main(["--root", str(book)]) == 2
    assert 'r"' in capsys.readouterr().err


@pytest.mark.parametrize("config, message", [
    (None, "does not exist"),
    ("repository: [unclosed\n", "is not readable YAML"),
    ("repository: foo\n", "has no mapping 'repository' with a key 'url'"),
    ("- a list\n", "has no mapping 'repository'"),
    ("repository:\n  url: 42\n", "got int"),
])
def test_a_bad_config_is_named(config, message, book, capsys):
    if config is None:
        (book / "_config.yml").unlink()
    else:
        (book / "_config.yml").write_text(config)
    before = _files(book)
    assert stamp_repo_url.main(["--root", str(book)]) == 2
    err = capsys.readouterr().err
    assert "_config.yml" in err and message in err and "Traceback" not in err
    assert _files(book) == before


def test_a_broken_notebook_stops_the_stamp_before_any_file_changes(book, capsys):
    _set_url(book, "https://github.com/someone/fork-of-it")
    (book / "notebooks" / "05_sd_inpainting.ipynb").write_text('{"cells": [')
    before = _files(book)
    assert stamp_repo_url.main(["--root", str(book)]) == 2
    assert "05_sd_inpainting.ipynb is not a valid notebook" in capsys.readouterr().err
    assert _files(book) == before  # 01's files, listed first, are not half-stamped either


def test_a_good_url_gives_valid_json_that_carries_it(book):
    _set_url(book, "https://git.example.org:8443/some_one/fork-of.it/")
    assert stamp_repo_url.main(["--root", str(book)]) == 0
    for path in (book / "notebooks").glob("*.ipynb"):
        nb = json.loads(path.read_text())
        assert stamp_repo_url.urls_in(json.dumps(nb)) == ["https://git.example.org:8443/some_one/fork-of.it"]
    assert stamp_repo_url.main(["--root", str(book), "--check"]) == 0
