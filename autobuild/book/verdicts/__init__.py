"""Each section's claims of the paper with verdicts computed from its results (one module per
section, as :mod:`autobuild.book.figures`); the notebooks record them with
:func:`autobuild.book.claims.record_claims`."""
