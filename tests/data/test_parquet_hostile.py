"""Malformed or oversized parquet data sets (issues 17 and 27)."""
import numpy as np
import pytest

from autobuild.data.load import load_dataset
from autobuild.data.paper_caches import CacheFormatError
from hostile import MBV3

def _parquet(path, archs, metadata=b'{"space": "mbv3"}'):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"arch": archs, "acc": [0.7] * len(archs)})
    pq.write_table(table.replace_schema_metadata({b"autobuild": metadata}), path)
    return path


@pytest.mark.parametrize("archs, metadata, message", [
    ([5, 6], b'{"space": "mbv3"}', r"row 0: column 'arch' holds 5 \(int\)"),
    ([None, None], b'{"space": "mbv3"}', r"row 0: column 'arch' holds None"),
    (None, b"[1, 2]", "must be a JSON object, got a list"),
    (None, b"{not json", "not valid JSON"),
])
def test_malformed_parquet_is_refused(archs, metadata, message, tmp_path):
    good = [MBV3.to_string(a) for a in MBV3.sample(2, seed=0)]
    path = _parquet(tmp_path / "bad.parquet", archs if archs is not None else good, metadata)
    with pytest.raises(CacheFormatError, match=message):
        load_dataset("mbv3", path)


def test_a_small_file_declaring_millions_of_rows_is_refused_before_reading(tmp_path):
    """Issue 27: a 190 KB dictionary-encoded file of 2 M rows reached 6.9 GB in memory."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from autobuild.data.parquet import MAX_ROWS

    n = 2_000_000
    arch = MBV3.to_string(MBV3.sample(1, seed=0)[0])
    table = pa.table({"arch": pa.array([arch]).dictionary_encode().take(pa.array(np.zeros(n, dtype=np.int32))),
                      "acc": pa.array(np.full(n, 0.5))})
    path = tmp_path / "big.parquet"
    pq.write_table(table.replace_schema_metadata({b"autobuild": b'{"space": "mbv3"}'}), path)
    assert path.stat().st_size < 2**20 and n > MAX_ROWS
    with pytest.raises(CacheFormatError, match=f"big.parquet declares {n} rows .* at most {MAX_ROWS} rows"):
        load_dataset("mbv3", path)
