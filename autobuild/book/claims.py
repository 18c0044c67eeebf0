"""The claims ledger: each quantitative claim of the paper, our value, its interval and a verdict.

Every section notebook ends its results with a list of :class:`Claim` rows whose verdicts come
from the rules below (never typed by hand), stores them in ``figures/claims.csv`` with
:func:`record_claims` and glues each verdict's words for the page's admonition with
:func:`glue_claims`. The book's claims ledger page (``book/claims.md``) is built from that file.

Each row says whose method it tests (``method``, one of :data:`METHODS`): ``paper`` is the paper's
method as published (the authors' network, the root readout), ``ours`` the companion network with
the pooled readout, ``control`` a same-information control, ``no predictor`` a fact that needs no
trained predictor. Where both the paper's method and ours can run, a claim has two rows (same
``claim_id``). Each row also says where its threshold comes from (``target``): ``paper: ...`` (a
threshold the paper states), ``book: ...`` (the book's own target, where the paper states none) or
``exact`` (a fact or count). The ledger's key is (section, claim_id, method, profile).

Usage in a notebook, in one ``hide-input`` cell after the section's results::

    from autobuild.book import claims

    rows = [
        claims.Claim("fig2_best_hop", "Fig. 2: two-hop embeddings rank subgraphs best", paper="m = 2",
                     verdict=claims.seeds_above(t_mean_interval(gains), threshold=0.0, what="95% t-interval"),
                     method="ours", target="book: SRCC gain above 0"),
        claims.Claim("fig7_fid", "Fig. 7: FID of the inpainting model", paper="FID 9.1",
                     verdict=claims.not_testable("needs the full Stable Diffusion weights"),
                     method="paper", target="paper: FID 9.1"),
    ]
    claims.record_claims("02_magnitude_ranked_embeddings", rows, profile=params.profile)
    claims.glue_claims(rows)

A claim measured in a stored full-profile run is one more row with ``profile="full"`` (same
``claim_id``); rows without a profile take :func:`record_claims`'s ``profile``.

:func:`glue_claims` glues ``<name>_verdict``, ``_ours``, ``_interval`` and ``_reason``, where
``<name>`` is the claim id, then ``_paper`` for the paper's method or ``_control`` for a control,
then ``_full`` for a full-profile row (:func:`glue_names`). The page shows each next to its figure::

    ```{admonition} Verdict: Fig. 2
    :class: verdict
    > The paper: "quoted sentence of the paper".

    **{glue:text}`fig2_best_hop_verdict`**: ours {glue:text}`fig2_best_hop_ours`,
    {glue:text}`fig2_best_hop_interval`. {glue:text}`fig2_best_hop_reason`
    ```
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from autobuild._io import TableStore
from autobuild._paths import figures_dir

VERDICTS = ("agrees", "differs", "inconclusive", "not testable offline", "too few seeds")


#: Whose method a row tests: the paper's as published (authors' network, root readout), ours
#: (companion network, pooled readout), a same-information control, or no trained predictor at all.
METHODS = ("paper", "ours", "control", "no predictor")


COLUMNS = ("section", "claim_id", "method", "claim", "paper", "target", "ours", "interval", "profile", "verdict")


#: One row per key in the ledger file.
KEYS = ("section", "claim_id", "method", "profile")


PROFILES = ("quick", "full")


CLAIMS_FILE = "claims.csv"


_ID = re.compile(r"[a-z][a-z0-9_]*")


#: A target: ``exact``, or ``paper:``/``book:`` followed by the threshold in words.
_TARGET = re.compile(r"exact|(?:paper|book):\s*\S.*", re.S)


def check_method(method, where: str = "claim") -> str:
    """``method`` if it is one of :data:`METHODS`, else a ValueError naming ``where``."""
    if method is None:
        raise ValueError(f"{where}: method is required, one of {', '.join(map(repr, METHODS))}")
    if method not in METHODS:
        raise ValueError(f"{where}: method must be one of {', '.join(map(repr, METHODS))}; got {method!r}")
    return method


def check_target(target, where: str = "claim") -> str:
    """``target`` if it reads ``exact``, ``paper: ...`` or ``book: ...``, else a ValueError naming ``where``."""
    if target is None:
        raise ValueError(f"{where}: target is required: 'paper: <the paper's threshold>', "
                         "'book: <the book's stated target>' or 'exact'")
    if not isinstance(target, str) or not _TARGET.fullmatch(target.strip()):
        raise ValueError(f"{where}: target must start with 'paper:' or 'book:' followed by the threshold, "
                         f"or be 'exact'; got {target!r}")
    return target.strip()


@dataclass(frozen=True)
class Verdict:
    """A rule's outcome: ``word`` (one of :data:`VERDICTS`), our value and interval as shown,
    and one sentence saying why."""

    word: str
    ours: str
    interval: str
    reason: str

    def __post_init__(self):
        if self.word not in VERDICTS:
            raise ValueError(f"verdict must be one of {', '.join(map(repr, VERDICTS))}; got {self.word!r}")
        for name in ("ours", "interval", "reason"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name).strip():
                raise ValueError(f"verdict {name} must be a non-empty string; got {getattr(self, name)!r}")


@dataclass(frozen=True)
class Claim:
    """One claim of the paper: an id (lower-case, ``_``), the claim in words, the paper's value
    as the paper gives it, our :class:`Verdict`, whose ``method`` it tests (:data:`METHODS`) and
    where its threshold comes from (``target``: ``paper: ...``, ``book: ...`` or ``exact``).
    ``method`` and ``target`` are required; ``profile`` defaults to the run's."""

    claim_id: str
    claim: str
    paper: str
    verdict: Verdict
    method: str | None = None
    profile: str | None = None
    target: str | None = None

    def __post_init__(self):
        if not isinstance(self.claim_id, str) or not _ID.fullmatch(self.claim_id):
            raise ValueError(f"claim_id must be lower-case letters, digits and '_', starting with a letter "
                             f"(it names glue keys); got {self.claim_id!r}")
        for name in ("claim", "paper"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name).strip():
                raise ValueError(f"claim {self.claim_id!r}: {name} must be a non-empty string")
        if not isinstance(self.verdict, Verdict):
            raise ValueError(f"claim {self.claim_id!r}: verdict must come from a rule of autobuild.book.claims "
                             f"(within, above, below, exact, seeds_above, seeds_below, not_testable); "
                             f"got {self.verdict!r}")
        check_method(self.method, f"claim {self.claim_id!r}")
        object.__setattr__(self, "target", check_target(self.target, f"claim {self.claim_id!r}"))
        if self.profile is not None and self.profile not in PROFILES:
            raise ValueError(f"claim {self.claim_id!r}: profile must be one of {PROFILES}; got {self.profile!r}")


def _finite(**values) -> None:
    for name, value in values.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number; got {value!r}")


def _interval(low: float, high: float, what: str, fmt: str) -> str:
    _finite(low=low, high=high)
    if low > high:
        raise ValueError(f"interval low {low!r} is above high {high!r}")
    if not isinstance(what, str) or not what.strip():
        raise ValueError("what must say what the interval is, e.g. '95% CI over 3 seeds'")
    return f"{what} [{fmt.format(low)}, {fmt.format(high)}]"


def within(paper: float, estimate: float, low: float, high: float, *, what: str, fmt: str = "{:.2f}",
           tolerance: float = 0.0, max_width: float | None = None) -> Verdict:
    """The paper's value should lie in our interval ``[low, high]`` (widened by ``tolerance``):
    *agrees* if it does, *differs* if not, *inconclusive* when the interval is wider than
    ``max_width`` (too wide to tell)."""
    _finite(paper=paper, estimate=estimate, tolerance=tolerance)
    interval = _interval(low, high, what, fmt)
    ours, shown = fmt.format(estimate), fmt.format(paper)
    if max_width is not None and high - low > max_width:
        return Verdict("inconclusive", ours, interval,
                       f"our interval is wider than {fmt.format(max_width)}, too wide to test the paper's {shown}.")
    slack = f" (± {fmt.format(tolerance)})" if tolerance else ""
    if low - tolerance <= paper <= high + tolerance:
        return Verdict("agrees", ours, interval, f"the paper's {shown} lies inside our interval{slack}.")
    side = "below" if paper < low - tolerance else "above"
    return Verdict("differs", ours, interval, f"the paper's {shown} lies {side} our interval{slack}.")


def above(estimate: float, low: float | None, high: float | None, threshold: float = 0.0, *, what: str,
          fmt: str = "{:.2f}") -> Verdict:
    """The paper says the quantity exceeds ``threshold``: *agrees* if our whole interval is above
    it, *differs* if it is wholly below, *inconclusive* if it straddles ``threshold``. A value
    with no sampling error takes ``low = high = None`` (``what`` then says why, e.g. "exact")."""
    return _side(estimate, low, high, threshold, what, fmt, up=True)


def below(estimate: float, low: float | None, high: float | None, threshold: float = 0.0, *, what: str,
          fmt: str = "{:.2f}") -> Verdict:
    """The paper says the quantity is under ``threshold``: the mirror of :func:`above`."""
    return _side(estimate, low, high, threshold, what, fmt, up=False)


def seeds_above(interval, threshold: float = 0.0, *, what: str, fmt: str = "{:.2f}") -> Verdict:
    """:func:`above` on an interval over independent seeds (an
    :class:`autobuild.experiments.intervals.Interval`, e.g. of ``t_mean_interval``): *too few
    seeds* (no verdict) when it has fewer than ``MIN_SEEDS`` values, else as :func:`above`."""
    return _seeds(interval, threshold, what, fmt, up=True)


def seeds_below(interval, threshold: float = 0.0, *, what: str, fmt: str = "{:.2f}") -> Verdict:
    """The mirror of :func:`seeds_above`: the paper says the quantity is under ``threshold``."""
    return _seeds(interval, threshold, what, fmt, up=False)


def _seeds(interval, threshold, what, fmt, up: bool) -> Verdict:
    from autobuild.experiments.intervals import MIN_SEEDS, Interval

    if not isinstance(interval, Interval):
        raise ValueError(f"seeds_above/seeds_below take an Interval of autobuild.experiments.intervals "
                         f"(e.g. t_mean_interval(values)); got {interval!r}")
    verdict = _side(interval.mean, interval.low, interval.high, threshold, f"{what}, {interval.n} seeds", fmt, up)
    if interval.n >= MIN_SEEDS:
        return verdict
    return Verdict("too few seeds", verdict.ours, verdict.interval,
                   f"{interval.n} seeds, fewer than the {MIN_SEEDS} a verdict needs.")


def _side(estimate, low, high, threshold, what, fmt, up: bool) -> Verdict:
    _finite(estimate=estimate, threshold=threshold)
    if low is None and high is None:
        if not isinstance(what, str) or not what.strip():
            raise ValueError("what must say why the value has no interval, e.g. 'exact (enumerated)'")
        low = high = estimate
        interval = what
    else:
        interval = _interval(low, high, what, fmt)
    ours, t = fmt.format(estimate), fmt.format(threshold)
    want, other = ("above", "below") if up else ("below", "above")
    whole = "ours lies" if low == high else "our whole interval lies"
    if (low > threshold) if up else (high < threshold):
        return Verdict("agrees", ours, interval, f"{whole} {want} {t}, as the paper says.")
    if (high < threshold) if up else (low > threshold):
        return Verdict("differs", ours, interval, f"{whole} {other} {t}; the paper says {want}.")
    return Verdict("inconclusive", ours, interval, f"our interval reaches {t}.")


def exact(paper, ours, *, what: str = "exact (no sampling)", fmt: str = "{}", rel_tol: float = 0.0) -> Verdict:
    """A value with no sampling error (a count, a size): *agrees* if ours equals the paper's
    (within the relative tolerance ``rel_tol`` for numbers), *differs* otherwise."""
    if not isinstance(what, str) or not what.strip():
        raise ValueError("what must say why the value has no interval, e.g. 'exact (no sampling)'")
    if isinstance(paper, (int, float)) and isinstance(ours, (int, float)):
        _finite(paper=paper, ours=ours, rel_tol=rel_tol)
        same = math.isclose(paper, ours, rel_tol=rel_tol, abs_tol=0.0)
    else:
        same = paper == ours
    shown, mine = fmt.format(paper), fmt.format(ours)
    if same:
        return Verdict("agrees", mine, what, f"ours equals the paper's {shown}.")
    return Verdict("differs", mine, what, f"ours is {mine}, the paper's {shown}.")


def not_testable(reason: str) -> Verdict:
    """A claim this companion cannot measure offline; ``reason`` says what it would need."""
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("not_testable needs a reason, e.g. 'needs the ImageNet validation set'")
    return Verdict("not testable offline", "—", "—", reason.strip().rstrip(".") + ".")


# Intervals -------------------------------------------------------------------------------------
def spearman_ci(rho: float, n: int, level: float = 0.95) -> tuple[float, float]:
    """Interval of a Spearman correlation over ``n`` pairs: Fisher's z with the variance
    ``1.06 / (n - 3)`` of Fieller, Hartley and Pearson (1957)."""
    from scipy.stats import norm

    _finite(rho=rho)
    if not -1 <= rho <= 1 or not isinstance(n, int) or n < 4:
        raise ValueError(f"spearman_ci needs -1 <= rho <= 1 and n >= 4 pairs; got rho={rho!r}, n={n!r}")
    z, half = math.atanh(max(min(rho, 1 - 1e-12), -1 + 1e-12)), norm.ppf(0.5 + level / 2) * math.sqrt(1.06 / (n - 3))
    return math.tanh(z - half), math.tanh(z + half)


def mean_ci(values, level: float = 0.95) -> tuple[float, float, float]:
    """Mean of ``values`` and its Student-t interval: ``(mean, low, high)``; needs two values or more."""
    import numpy as np
    from scipy.stats import t

    x = np.asarray(values, dtype=float).ravel()
    if x.size < 2 or not np.isfinite(x).all():
        raise ValueError(f"mean_ci needs at least two finite values; got {x.size}")
    m, se = float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))
    half = float(t.ppf(0.5 + level / 2, x.size - 1)) * se
    return m, m - half, m + half


def wilson_ci(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson's interval of the proportion ``k / n``."""
    from scipy.stats import norm

    if not isinstance(k, int) or not isinstance(n, int) or n < 1 or not 0 <= k <= n:
        raise ValueError(f"wilson_ci needs integers 0 <= k <= n, n >= 1; got k={k!r}, n={n!r}")
    z, p = norm.ppf(0.5 + level / 2), k / n
    centre, half = (p + z * z / (2 * n)), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - half) / (1 + z * z / n)), min(1.0, (centre + half) / (1 + z * z / n))


# The ledger file -------------------------------------------------------------------------------
def claims_path(path: str | os.PathLike | None = None) -> Path:
    """``path``, else ``claims.csv`` in :func:`autobuild._paths.figures_dir`."""
    return Path(path) if path is not None else figures_dir() / CLAIMS_FILE


def claims_store(path: str | os.PathLike | None = None) -> TableStore:
    """The ledger file (:func:`claims_path`) as a locked store of :data:`COLUMNS`, text as written,
    one row per :data:`KEYS`."""
    return TableStore(claims_path(path), COLUMNS, keys=KEYS, text=True)


def check_ledger(frame, where: str = "the ledger"):
    """``frame`` (rows of :data:`COLUMNS`) if every row names a known method, target, profile and
    verdict, no cell is empty and no (claim_id, method, profile) repeats; else a ValueError naming
    the first bad row."""
    for i, row in enumerate(frame.to_dict("records")):
        at = f"{where}, row {i + 1} ({row['section']}, {row['claim_id']!r})"
        empty = [c for c in COLUMNS if not str(row[c]).strip()]
        if empty:
            raise ValueError(f"{at}: empty {', '.join(empty)}")
        check_method(row["method"], at)
        check_target(row["target"], at)
        if row["profile"] not in PROFILES:
            raise ValueError(f"{at}: profile must be one of {PROFILES}; got {row['profile']!r}")
        if row["verdict"] not in VERDICTS:
            raise ValueError(f"{at}: verdict must be one of {VERDICTS}; got {row['verdict']!r}")
    twice = frame.duplicated(["claim_id", "method", "profile"], keep="first")
    if twice.any():
        r = frame[twice].iloc[0]
        raise ValueError(f"{where}: claim {r.claim_id!r} ({r.method}, {r.profile}) is recorded twice "
                         f"(sections {sorted(set(frame[frame.claim_id == r.claim_id].section))})")
    return frame


def read_claims(path: str | os.PathLike | None = None):
    """The ledger as a DataFrame with :data:`COLUMNS` (empty if the file does not exist yet),
    checked by :func:`check_ledger`. A file written before rows named their method and target is
    refused: re-execute the notebooks (``scripts/run_notebooks.py``) to rewrite it."""
    store = claims_store(path)
    if store.path.is_file():
        with open(store.path, newline="", encoding="utf-8") as f:
            header = f.readline().strip().split(",")
        old = [c for c in ("method", "target") if c not in header]
        if header != [""] and old:
            raise ValueError(f"{store.path} has no {' and no '.join(old)} column: it was written before each "
                             "ledger row said whose method it tests and where its threshold comes from; "
                             "re-execute the notebooks (scripts/run_notebooks.py) to rewrite it")
    return check_ledger(store.read(), str(store.path))


def strongest(frame):
    """For each claim and method (section, claim_id, method), the row of its strongest evidence:
    the ``full``-profile row where one is stored, else the ``quick`` one; in the ledger's order."""
    rank = frame.profile.map({"quick": 0, "full": 1})
    if rank.isna().any():
        raise ValueError(f"profiles must be one of {PROFILES}; got {sorted(set(frame.profile) - set(PROFILES))}")
    keys = ["section", "claim_id", "method"]
    best = frame.assign(_rank=rank).groupby(keys, sort=False)["_rank"].transform("max")
    return frame[rank == best]


def _rows(section: str, claims: Iterable[Claim], profile: str) -> list[dict]:
    rows, seen = [], set()
    for c in claims:
        if not isinstance(c, Claim):
            raise ValueError(f"record_claims takes Claim rows; got {c!r}")
        key = (c.claim_id, c.method, c.profile or profile)
        if key in seen:
            raise ValueError(f"claim {c.claim_id!r} given twice for the {key[1]} method and the {key[2]} profile")
        seen.add(key)
        rows.append({"section": section, "claim_id": c.claim_id, "method": c.method, "claim": c.claim,
                     "paper": c.paper, "target": c.target, "ours": c.verdict.ours, "interval": c.verdict.interval,
                     "profile": key[2], "verdict": c.verdict.word})
    if not rows:
        raise ValueError(f"section {section!r}: record_claims needs at least one claim")
    return rows


def record_claims(section: str, claims: Iterable[Claim], profile: str,
                  path: str | os.PathLike | None = None) -> Path:
    """Replace ``section``'s rows of the ledger (default ``figures/claims.csv``) by ``claims``,
    keeping every other section's rows in their order; the file is rewritten atomically under
    a lock, so notebooks run side by side do not lose each other's rows. A claim another section
    already records (same claim_id, method and profile) is refused. Returns the path."""
    if not isinstance(section, str) or not re.fullmatch(r"\d\d\w*", section):
        raise ValueError(f"section must be the notebook's name, e.g. '01_graph_encodings'; got {section!r}")
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(map(repr, PROFILES))}; got {profile!r}")
    new = _rows(section, claims, profile)

    def replace_section(stored):
        kept = [r for r in stored.to_dict("records") if r["section"] != section]
        taken = {(r["claim_id"], r["method"], r["profile"]): r["section"] for r in kept}
        for r in new:
            other = taken.get((r["claim_id"], r["method"], r["profile"]))
            if other is not None:
                raise ValueError(f"claim {r['claim_id']!r} ({r['method']}, {r['profile']}) is already recorded "
                                 f"by section {other!r}; claim ids must be unique across sections")
        return sorted(kept + new, key=lambda r: r["section"])  # stable: each section keeps its order

    store = claims_store(path)
    read_claims(path)  # an old or damaged file is refused with its reason before anything is written
    store.update(replace_section)
    return store.path


def glue_names(claim: Claim) -> dict[str, str]:
    """The glue keys of ``claim`` and their text: ``<name>_verdict``, ``_ours``, ``_interval``,
    ``_reason``, where ``<name>`` is the claim id, then ``_paper`` (the paper's method) or
    ``_control`` (a control), then ``_full`` (a full-profile row). Rows of ``ours`` and ``no
    predictor`` add nothing, e.g. ``fig5_nas_pn_gpu_paper_full_verdict``, ``sec51_pn_extra_verdict``."""
    prefix = (claim.claim_id + {"paper": "_paper", "control": "_control"}.get(claim.method, "")
              + ("_full" if claim.profile == "full" else ""))
    v = claim.verdict
    return {f"{prefix}_verdict": v.word, f"{prefix}_ours": v.ours, f"{prefix}_interval": v.interval,
            f"{prefix}_reason": v.reason}


def glue_claims(claims: Iterable[Claim]) -> None:
    """Glue every claim's verdict texts (see :func:`glue_names`) for the page's admonitions,
    without showing them. Returns None, so a notebook's last line shows nothing even where the
    kernel keeps no history (papermill, nbval), which disables ``;``. Where myst-nb is not
    installed (Colab without the ``book`` extra) nothing is glued, as no page would show it."""
    try:
        from myst_nb import glue
    except ImportError:
        return
    for c in claims:
        for key, text in glue_names(c).items():
            glue(key, text, display=False)


def glue_texts(values: dict) -> None:
    """Glue each ``name: value`` (shown as ``str(value)``) for a page's prose, ``{glue:text}`name```,
    without showing it: the numbers a page's text gives are computed, never typed. Names follow
    claim ids (lower-case, digits, ``_``). Nothing is glued where myst-nb is not installed."""
    for name in values:
        if not isinstance(name, str) or not _ID.fullmatch(name):
            raise ValueError(f"glue names must be lower-case letters, digits and '_'; got {name!r}")
    try:
        from myst_nb import glue
    except ImportError:
        return
    for name, value in values.items():
        glue(name, str(value), display=False)
