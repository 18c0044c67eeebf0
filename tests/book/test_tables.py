"""Result tables carry space ids; pages show the spaces' labels."""
import pandas as pd

from autobuild.book.tables import named, space_label


def test_every_space_column_and_level_is_shown_by_its_label():
    rows = pd.DataFrame({"space": ["mbv3", "pn", "mbv3"], "device": ["gpu", "gpu", "cpu"], "hv": [1.0, 2.0, 3.0]})
    assert named(rows).space.tolist() == ["MBv3", "PN", "MBv3"]
    assert rows.space.tolist() == ["mbv3", "pn", "mbv3"]  # the table itself is left as it was
    indexed = named(rows.set_index(["space", "device"]))
    assert indexed.index.get_level_values("space").tolist() == ["MBv3", "PN", "MBv3"]
    pivot = named(rows.pivot_table(index="device", columns=["space"], values="hv"))
    assert list(pivot.columns) == ["MBv3", "PN"] and pivot.columns.name == "space"
    wide = named(rows.pivot_table(index="device", columns=["space", "device"], values="hv"))
    assert set(wide.columns.get_level_values("space")) == {"MBv3", "PN"}


def test_an_unknown_id_is_shown_as_it_is():
    assert space_label("macro") != "" and space_label("no such space") == "no such space"
    assert named(pd.DataFrame({"x": [1]})).equals(pd.DataFrame({"x": [1]}))
