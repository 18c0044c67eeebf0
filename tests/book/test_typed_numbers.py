"""scripts/find_typed_numbers.py: which numbers of the book's prose count as typed results, and the
book itself holds none outside the pages still listed as pending."""
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("find_typed_numbers", ROOT / "scripts" / "find_typed_numbers.py")
checker = importlib.util.module_from_spec(_spec)
sys.modules["find_typed_numbers"] = checker
_spec.loader.exec_module(checker)


def found(text: str) -> list[str]:
    return [f.number for f in checker.scan_markdown(text)]


@pytest.mark.parametrize("line, numbers", [
    ("the root readout reaches 0.59 and 0.27", ["0.59", "0.27"]),
    ("hop 0 gives -0.44 on seed 0", ["-0.44"]),
    ("it covers about 75% of the time", ["75"]),
    ("compiled, it runs 1.6x faster; uncompiled 3× slower", ["1.6", "3"]),
    ("about 2 s per predictor, 10–20 s in all, 1-2 GPU-days each", ["2", "10", "20", "1", "2"]),
    ("18 of the 68 beat it, 3 out of 8 runs", ["18", "68", "3", "8"]),
    ("trained with 8 seeds, 3,000 rows and 4 hops", []),
    ("Sec. 4.2, Eq. 4, Fig. 7b, Table 1 and sections 01, 02 and 03", []),
    ("CVPR 2024, the runs of 2026-12-01, Python 3.11, arXiv 2103.11922", []),
    ("SDv1.4, MBv3, e3k3, 16x16 crops, top-1, 3-hop, the 1st seed", []),
    ("5 folds × 4 shuffles of 4/5 of the 68", []),
    ("a 95% t-interval and a 95 % bootstrap interval", []),
])
def test_which_numbers_are_flagged(line, numbers):
    assert found(line) == numbers


@pytest.mark.parametrize("text", [
    "`lr = 0.001` and ``x = 2.5``",
    "$\\rho = 0.7$, \\(0.15\\) and $$x = 0.5$$",
    "{glue:text}`a_1.5` and {cite:p}`mills2024`",
    "[the table](https://example.org/0.84.html) <span width=0.5> at https://x.org/1.5",
    "<!-- 0.5 -->",
    "> The paper: the 68 average 22.13 and best 10.54;\n> ES's top-4 average 10.82.",
    "> **The paper** (Table 1): 10.13 < 10.54",
    "```\nloss 0.93\n```",
    "````{code-block} text\n0.93\n````",
    "```{admonition} Verdict\n:width: 0.5\n```",
    "# 5. Stable Diffusion\n1. first step",
])
def test_what_is_not_prose_is_not_read(text):
    assert found(text) == []


def test_prose_inside_directives_and_other_quotes_is_read():
    assert found("```{admonition} Verdict\nours 0.84\n```") == ["0.84"]
    assert found("> someone else said 0.84") == ["0.84"]
    assert found("> The paper: 0.84\n\nours: 0.91") == ["0.91"]  # the quote ends at the blank line
    assert found("````{admonition} Run it\n```bash\nmake 1.5\n```\nthen 2.5 more\n````") == ["2.5"]


def test_findings_name_file_and_line(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\nIt took 13 min.\n\n```{include} part.md\n```\n")
    (tmp_path / "part.md").write_text("line one\nSRCC 0.97\n")
    got = checker.find_typed_numbers([page], root=tmp_path)
    assert [(Path(f.path).name, f.line, f.number) for f in got] == [("page.md", 3, "13"), ("part.md", 2, "0.97")]
    assert str(got[0]).endswith("page.md:3: 13  (It took 13 min.)")


def test_a_notebook_script_is_read_only_in_its_markdown_cells(tmp_path):
    nb = tmp_path / "01_x.py"
    nb.write_text("# %% [markdown]\n# Ours reached 0.84.\n\n# %%\nx = 0.5  # 0.7\n# %% [markdown]\n# fine\n")
    got = checker.find_typed_numbers([nb], root=tmp_path)
    assert [(f.line, f.number) for f in got] == [(2, "0.84")]


def test_the_command_exits_1_with_findings_and_0_without(tmp_path, capsys):
    clean, dirty = tmp_path / "clean.md", tmp_path / "dirty.md"
    clean.write_text("8 seeds\n")
    dirty.write_text("ours 0.84\n")
    assert checker.main([str(clean)]) == 0
    assert checker.main([str(dirty)]) == 1 and "dirty.md:1: 0.84" in capsys.readouterr().out
    assert checker.main([str(tmp_path / "missing.md")]) == 2


def test_the_book_holds_no_typed_result_numbers():
    assert [str(f) for f in checker.find_typed_numbers()] == []
