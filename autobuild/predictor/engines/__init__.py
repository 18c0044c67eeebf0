"""The two training engines beneath :mod:`autobuild.predictor.training`.

* :mod:`~autobuild.predictor.engines.pyg`: PyG's message passing, one predictor after another;
  the reference, and the engine for any graph (e.g. op-level IR graphs).
* :mod:`~autobuild.predictor.engines.dense`: chain graphs as padded tensors, N predictors stacked
  along a leading model axis and trained as one batched computation.

Both run the same loop (:func:`~autobuild.predictor.engines.loop.fit_epochs`) and return
:class:`~autobuild.predictor.trained.TrainedPredictor` objects; they receive inputs that
:func:`~autobuild.predictor.trained.check_inputs` has already checked. Neither knows which
variant it runs: everything variant-specific comes from its
:class:`~autobuild.predictor.variants.Variant`.
"""
