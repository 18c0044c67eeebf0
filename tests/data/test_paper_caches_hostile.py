"""The paper caches' restricted unpickler and loader under hostile files."""
import pickle
import time

import numpy as np
import pytest

from autobuild.data import fetch as paper_fetch
from autobuild.cli import main
from autobuild.data import paper_caches
from autobuild.data.load import load_dataset
from autobuild.data.paper_caches import CacheFormatError, PickleBoundsError
from hostile import cache_rows, write_pickle

# 1. The restricted unpickler bounds every allocation ---------------------------------------

BOMBS = {
    "bytearray": b"\x80\x02cbuiltins\nbytearray\n\x8a\x05" + (3 * 10**9).to_bytes(5, "little") + b"\x85R.",
    "reconstruct": b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n\x8a\x06"
                   + (10**12).to_bytes(6, "little") + b"\x85C\x01b\x87R.",
    "ndarray": b"\x80\x02cnumpy\nndarray\n\x8a\x06" + (10**12).to_bytes(6, "little") + b"\x85\x85R.",
    "long_binput": b"\x80\x02]r" + (2**31).to_bytes(4, "little") + b".",
    "put": b"(lp99999999999\n.",
    # an array state asking for 10**12 float64s (numpy would allocate before checking the data)
    "array_state": b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R(K\x01\x8a\x06"
                   + (10**12).to_bytes(6, "little") + b"\x85cnumpy\ndtype\nX\x02\x00\x00\x00f8\x89\x88\x87R"
                   b"(K\x03X\x01\x00\x00\x00<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89C\x00tb.",
}


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_allocation_bombs_are_refused_at_once(name, tmp_path):
    path = tmp_path / f"{name}.pkl"
    path.write_bytes(BOMBS[name])
    start = time.perf_counter()
    with pytest.raises(PickleBoundsError, match=rf"{path.name}: refusing to unpickle .* cannot hold that much"):
        paper_caches.load_pickle(path)
    assert time.perf_counter() - start < 2


def test_object_array_with_a_short_list_is_refused_not_a_crash(tmp_path):
    # numpy's ndarray.__setstate__ segfaults on an object array whose list is too short
    path = tmp_path / "short.pkl"
    path.write_bytes(b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R(K\x01K\n"
                     b"\x85cnumpy\ndtype\nX\x02\x00\x00\x00O8\x89\x88\x87R(K\x03X\x01\x00\x00\x00|NNNJ\xff\xff\xff\xff"
                     b"J\xff\xff\xff\xffK?tb\x89]tb.")
    with pytest.raises(CacheFormatError, match="object array of shape"):
        paper_caches.load_pickle(path)


@pytest.mark.parametrize("payload, message", [
    (b"\x80\x04\x8e" + (2**40).to_bytes(8, "little") + b"abc.", "truncated"),   # BINBYTES8 of 1 TB
    (b"\x80\x02\xff.", "invalid pickle opcode"),
    (b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00aX\x03\x00\x00\x00hex\x86R.", "latin1"),
    (b"\x80\x02cbuiltins\nbytes\nK\x05\x85R.", "bytes"),
])
def test_malformed_pickles_are_refused_with_a_message(payload, message, tmp_path):
    path = tmp_path / "bad.pkl"
    path.write_bytes(payload)
    with pytest.raises(CacheFormatError, match=message):
        paper_caches.load_pickle(path)


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_honest_pickles_still_load(protocol, tmp_path):
    obj_array = np.empty(3, dtype=object)
    obj_array[:] = [1, "x", None]
    values = [np.arange(5.0), obj_array, np.float32(3.5), np.zeros((3, 2), dtype=[("a", "f4"), ("b", "i8")]),
              np.array(["ab", "c"]), {1, 2}, frozenset([3]), bytearray(b"xy"), complex(1, 2), np.int64(7),
              np.arange(6).reshape(2, 3).T, np.zeros((0, 4)), np.dtype("f4")]
    path = tmp_path / "ok.pkl"
    path.write_bytes(pickle.dumps(values, protocol=protocol))
    loaded = paper_caches.load_pickle(path)
    for a, b in zip(values, loaded):
        assert type(a) is type(b)
        assert np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b


# 11-12. Tracebacks and silent coercions become messages naming the file and the field --------

@pytest.mark.parametrize("resolution, message", [
    (float("inf"), "not a finite whole number"), ([160], "not a number"), (160.7, "not a finite whole number"),
    ("160", "not a number"), (161, "not one of mbv3's"),
])
def test_bad_resolutions_are_refused(resolution, message, tmp_path):
    rows = cache_rows(3)
    rows[1]["original config"] = (resolution, rows[1]["original config"][1])
    path = write_pickle(tmp_path / "res.pkl", rows)
    with pytest.raises(CacheFormatError, match=rf"res.pkl: entry 1: .*{message}"):
        load_dataset("mbv3", path)


def test_whole_number_resolutions_are_accepted(tmp_path):
    rows = cache_rows(3)
    rows[0]["original config"] = (160.0, rows[0]["original config"][1])
    rows[1]["original config"] = (np.int64(176), rows[1]["original config"][1])
    d = load_dataset("mbv3", write_pickle(tmp_path / "res.pkl", rows))
    assert [a.resolution for a in d.archs[:2]] == [160, 176]


@pytest.mark.parametrize("value, message", [(10**400, "too large for a float64"), (np.complex128(1j), "not a number")])
def test_unrepresentable_labels_are_refused(value, message, tmp_path):
    rows = cache_rows(3)
    rows[2]["acc"] = value
    with pytest.raises(CacheFormatError, match=rf"label 'acc' of entry 2 .*{message}"):
        load_dataset("mbv3", write_pickle(tmp_path / "lab.pkl", rows))


def test_data_fetch_offline_fails_at_once_on_stderr(tmp_path, monkeypatch, capsys):
    import socket

    def unreachable(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    for var in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(socket, "create_connection", unreachable)
    start = time.perf_counter()
    rc = main(["data", "fetch", "--only", "mbv3", "--dest", str(tmp_path)])
    captured = capsys.readouterr()
    assert rc == 2 and captured.out == "" and time.perf_counter() - start < 5
    assert "autobuild: error: cannot reach" in captured.err and "offline" in captured.err




def test_data_fetch_offline_with_the_caches_present_uses_them(tmp_path, monkeypatch, capsys):
    def unreachable():
        raise paper_caches.FetchError("cannot reach https://huggingface.co")

    monkeypatch.setattr(paper_fetch, "_check_reachable", unreachable)
    (tmp_path / paper_caches.PAPER_CACHES["mbv3"]).write_bytes(b"x" * 10)
    with pytest.warns(UserWarning, match="unchecked"):
        assert main(["data", "fetch", "--only", "mbv3", "--dest", str(tmp_path)]) == 0
    assert main(["data", "fetch", "--only", "mbv3", "--dest", str(tmp_path), "--force"]) == 2
