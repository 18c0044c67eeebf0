"""The paper's own caches: where they live (:func:`paper_cache_path`) and their download from the
Hugging Face dataset ``kgmills/AutoBuild`` (:func:`fetch`)."""
from __future__ import annotations

import os
import warnings
from pathlib import Path

from autobuild._paths import cache_dir
from autobuild.data.equations import shorten

HF_REPO_ID = "kgmills/AutoBuild"


PAPER_CACHES = {
    "mbv3": "ofa_mbv3_custom_cache.pkl",
    "pn": "ofa_pn_custom_cache.pkl",
    "mbv3_pan_seg": "ofa_mbv3_pan_seg_custom_cache.pkl",
    "pn_pan_seg": "ofa_pn_pan_seg_custom_cache.pkl",
    "mbv3_pn_onnx_ir": "ofa_mbv3_pn_onnx_ir_cache.pkl",
}


CACHE_DESCRIPTIONS = {
    "mbv3": "3k OFA-MBv3 architectures, sequence format, acc + GPU/CPU/NPU latency",
    "pn": "3k OFA-PN architectures, sequence format, acc + GPU/CPU/NPU latency",
    "mbv3_pan_seg": "OFA-MBv3 AIO-P pseudo-labelled panoptic segmentation (pan_seg_PQ, flops_pan_seg)",
    "pn_pan_seg": "OFA-PN AIO-P pseudo-labelled panoptic segmentation (pan_seg_PQ, flops_pan_seg)",
    "mbv3_pn_onnx_ir": "3k OFA-MBv3 + 3k OFA-PN architectures as ONNX-IR op graphs",
}


class FetchError(RuntimeError):
    """A paper cache that could not be downloaded (offline, unreachable, missing file)."""


def paper_cache_path(name: str, must_exist: bool = True) -> Path:
    """Local path of paper cache ``name`` (a key of :data:`PAPER_CACHES`)."""
    if name not in PAPER_CACHES:
        raise ValueError(f"unknown paper cache {name!r}; known: {sorted(PAPER_CACHES)}")
    path = cache_dir() / PAPER_CACHES[name]
    if must_exist and not path.is_file():
        raise FileNotFoundError(f"paper cache {PAPER_CACHES[name]} is not in {cache_dir()}; download it with "
                                f"`autobuild data fetch --only {name}` (needs network; set AUTOBUILD_CACHE "
                                "to use another folder)")
    return path


def _check_reachable(timeout: float = 5.0) -> None:
    """Refuse at once when the Hugging Face endpoint cannot be reached (``huggingface_hub``
    would retry for ~25 s first). Skipped behind a proxy, which only the library knows to use."""
    import socket
    import urllib.parse

    from huggingface_hub import constants

    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return
    url = urllib.parse.urlparse(constants.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname, port), timeout=timeout).close()
    except OSError as exc:
        raise FetchError(f"cannot reach {constants.ENDPOINT} ({exc.strerror or exc}); are you offline? The paper's "
                         f"caches are downloaded from the Hugging Face dataset {HF_REPO_ID}; the embedded sets "
                         "(--data embedded) need no network") from None


def fetch(names=None, dest: Path | None = None, force: bool = False) -> dict[str, Path]:
    """Download paper caches ``names`` (default: all) from ``kgmills/AutoBuild`` into ``dest``.

    Raises :class:`FetchError` (a ``RuntimeError``) when a download fails; when the endpoint
    cannot be reached at all, at once.
    """
    from huggingface_hub import hf_hub_download
    names = list(PAPER_CACHES) if names is None else list(names)
    unknown = [n for n in names if n not in PAPER_CACHES]
    if unknown:
        raise ValueError(f"unknown paper cache(s) {unknown}; known: {sorted(PAPER_CACHES)}")
    dest = Path(dest) if dest is not None else cache_dir()
    dest.mkdir(parents=True, exist_ok=True)
    present = not force and all((dest / PAPER_CACHES[n]).is_file() for n in names)
    try:
        _check_reachable()
    except FetchError:
        if not present:
            raise
        warnings.warn(f"{HF_REPO_ID} cannot be reached; using the caches already in {dest} unchecked", stacklevel=2)
        return {n: dest / PAPER_CACHES[n] for n in names}
    out = {}
    for name in names:
        filename = PAPER_CACHES[name]
        try:
            path = hf_hub_download(repo_id=HF_REPO_ID, filename=filename, repo_type="dataset",
                                   local_dir=dest, force_download=force)
        except Exception as exc:  # network, auth or missing-file errors all end here
            raise FetchError(f"could not download {filename} from the Hugging Face dataset "
                             f"{HF_REPO_ID}: {type(exc).__name__}: {shorten(exc, 300)}") from exc
        out[name] = Path(path)
    return out
