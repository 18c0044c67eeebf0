"""The one locked results store (autobuild._io.TableStore): merges by key, refuses what no writer leaves."""
import multiprocessing as mp
import os

import pandas as pd
import pytest

from autobuild._io import TableStore

COLUMNS = ("name", "seed", "value")


def store(path):
    return TableStore(path, COLUMNS, keys=("name", "seed"), dtypes={"seed": int, "value": float})


def rows(*triples):
    return pd.DataFrame(triples, columns=list(COLUMNS))


def test_add_replaces_rows_of_the_same_key_and_keeps_the_rest(tmp_path):
    s = store(tmp_path / "r.csv")
    assert s.read().empty and not s.has(name="a", seed=0)
    s.add(rows(("a", 0, 1.0), ("a", 1, 2.0)))
    s.add(rows(("a", 1, 5.0), ("b", 0, 3.0)))
    got = s.read().sort_values(["name", "seed"]).reset_index(drop=True)
    assert got.values.tolist() == [["a", 0, 1.0], ["a", 1, 5.0], ["b", 0, 3.0]]
    assert s.has(name="b", seed=0) and not s.has(name="b", seed=1)


@pytest.mark.parametrize("text, problem", [
    ("name,seed,value\na,0,1.0\na,1,2", "line 3 is cut short"),            # killed mid-write: no final newline
    ("name,seed,value\na,0,1.0\na,1\n", "line 3: 2 fields where the header has 3"),
    ("name,seed,value\na,0,1.0\na,zero,2.0\n", "line 3: column 'seed' holds 'zero', not an integer"),
    ("name,seed,value\na,0,1.0\na,0.5,2.0\n", "line 3: column 'seed' holds '0.5', not an integer"),
    ("name,seed,value\na,0,1.0\na,0,2.0\n", "line 3: a second row for the key"),
    ("name,value\na,1.0\n", "lacks the column"),
])
def test_a_damaged_file_is_refused_with_its_line_and_never_rewritten(tmp_path, text, problem):
    path = tmp_path / "r.csv"
    path.write_text(text)
    s = store(path)
    with pytest.raises(ValueError, match=problem) as err:
        s.read()
    assert str(path) in str(err.value)
    with pytest.raises(ValueError, match=problem):
        s.add(rows(("c", 0, 1.0)))
    assert path.read_text() == text


def test_a_str_column_keeps_its_digits(tmp_path):
    s = TableStore(tmp_path / "a.csv", ("arch", "acc"), keys=("arch",), dtypes={"arch": str, "acc": float})
    s.add(pd.DataFrame({"arch": ["00201200", "12"], "acc": [0.5, 0.25]}))
    assert s.read().arch.tolist() == ["00201200", "12"] and s.read().acc.tolist() == [0.5, 0.25]


def test_text_stores_read_every_cell_exactly_as_written(tmp_path):
    s = TableStore(tmp_path / "t.csv", ("id", "note"), keys=("id",), text=True)
    s.add(pd.DataFrame({"id": ["007", "1e3"], "note": ["", "NaN"]}))
    assert s.read().values.tolist() == [["007", ""], ["1e3", "NaN"]]


def _add_many(path, name):
    s = store(path)
    for seed in range(15):
        s.add(rows((name, seed, float(seed))))


@pytest.mark.skipif(os.name != "posix", reason="fork and flock")
def test_concurrent_writers_lose_no_row(tmp_path):
    path = tmp_path / "r.csv"
    procs = [mp.get_context("fork").Process(target=_add_many, args=(path, n)) for n in "abc"]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert len(store(path).read()) == 45
