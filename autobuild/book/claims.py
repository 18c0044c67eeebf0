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
                     verdict=claims.seeds_above(claims_interval, threshold=0.0, what="95% t-interval over seeds"),
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

VERDICTS = ("agrees", "differs", "inconclusive", "not testable offline")


COLUMNS = ("section", "claim_id", "claim", "paper", "ours", "interval", "profile", "verdict")


PROFILES = ("quick", "full")


CLAIMS_FILE = "claims.csv"


_ID = re.compile(r"[a-z][a-z0-9_]*")


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
    as the paper gives it, and our :class:`Verdict`; ``profile`` defaults to the run's."""

    claim_id: str
    claim: str
    paper: str
    verdict: Verdict
    profile: str | None = None

    def __post_init__(self):
        if not isinstance(self.claim_id, str) or not _ID.fullmatch(self.claim_id):
            raise ValueError(f"claim_id must be lower-case letters, digits and '_', starting with a letter "
                             f"(it names glue keys); got {self.claim_id!r}")
        for name in ("claim", "paper"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name).strip():
                raise ValueError(f"claim {self.claim_id!r}: {name} must be a non-empty string")
        if not isinstance(self.verdict, Verdict):
            raise ValueError(f"claim {self.claim_id!r}: verdict must come from a rule of autobuild.book.claims "
                             f"(within, above, below, exact, not_testable); got {self.verdict!r}")
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
    """The ledger file (:func:`claims_path`) as a locked store of :data:`COLUMNS`, text as written."""
    return TableStore(claims_path(path), COLUMNS, keys=("section", "claim_id", "profile"), text=True)


def read_claims(path: str | os.PathLike | None = None):
    """The ledger as a DataFrame with :data:`COLUMNS` (empty if the file does not exist yet)."""
    return claims_store(path).read()


def _rows(section: str, claims: Iterable[Claim], profile: str) -> list[dict]:
    rows, seen = [], set()
    for c in claims:
        if not isinstance(c, Claim):
            raise ValueError(f"record_claims takes Claim rows; got {c!r}")
        key = (c.claim_id, c.profile or profile)
        if key in seen:
            raise ValueError(f"claim {c.claim_id!r} given twice for the {key[1]} profile")
        seen.add(key)
        rows.append({"section": section, "claim_id": c.claim_id, "claim": c.claim, "paper": c.paper,
                     "ours": c.verdict.ours, "interval": c.verdict.interval, "profile": key[1],
                     "verdict": c.verdict.word})
    if not rows:
        raise ValueError(f"section {section!r}: record_claims needs at least one claim")
    return rows


def record_claims(section: str, claims: Iterable[Claim], profile: str,
                  path: str | os.PathLike | None = None) -> Path:
    """Replace ``section``'s rows of the ledger (default ``figures/claims.csv``) by ``claims``,
    keeping every other section's rows in their order; the file is rewritten atomically under
    a lock, so notebooks run side by side do not lose each other's rows. Returns the path."""
    if not isinstance(section, str) or not re.fullmatch(r"\d\d\w*", section):
        raise ValueError(f"section must be the notebook's name, e.g. '01_graph_encodings'; got {section!r}")
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(map(repr, PROFILES))}; got {profile!r}")
    new = _rows(section, claims, profile)

    def replace_section(stored):
        kept = [r for r in stored.to_dict("records") if r["section"] != section]
        return sorted(kept + new, key=lambda r: r["section"])  # stable: each section keeps its order

    store = claims_store(path)
    store.update(replace_section)
    return store.path


def glue_names(claim: Claim) -> dict[str, str]:
    """The glue keys of ``claim`` and their text: ``<id>_verdict``, ``_ours``, ``_interval``,
    ``_reason``; a full-profile row's keys are ``<id>_full_verdict`` and so on."""
    prefix = claim.claim_id + ("_full" if claim.profile == "full" else "")
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
