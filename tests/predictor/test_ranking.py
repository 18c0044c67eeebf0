import pytest
import torch
from scipy.stats import spearmanr

from autobuild.predictor import ranking


def test_reference_soft_rank_matches_torchsort():
    torchsort = pytest.importorskip("torchsort")
    torch.manual_seed(0)
    for strength in (0.1, 1.0, 5.0):
        x = torch.randn(3, 40, dtype=torch.float64, requires_grad=True)
        ref = ranking.soft_rank_reference(x, strength)
        fast = torchsort.soft_rank(x, regularization="l2", regularization_strength=strength)
        assert torch.allclose(ref, fast, atol=1e-6)
        g = torch.randn_like(ref)
        (gr,) = torch.autograd.grad(ref, x, g)
        (gf,) = torch.autograd.grad(fast, x, g)
        assert torch.allclose(gr, gf, atol=1e-6)


def test_hard_limit_of_soft_rank_is_the_rank():
    x = torch.tensor([[3.0, -1.0, 10.0, 0.5]])
    assert ranking.soft_rank_reference(x, 1e-4).round().tolist() == [[3.0, 1.0, 4.0, 2.0]]


def test_spearman_agrees_with_scipy_when_well_separated():
    torch.manual_seed(1)
    a, b = torch.randn(64) * 100, torch.randn(64)
    assert float(ranking.spearman(a, b, strength=1e-3)) == pytest.approx(spearmanr(a, b).statistic, abs=1e-4)


def test_ranking_term_is_zero_for_perfectly_ordered_norms():
    y = torch.linspace(0, 1, 32)
    embs = [torch.stack([y * 10 * (m + 1), torch.zeros_like(y)], 1) for m in range(5)]
    assert float(ranking.hop_ranking_loss(embs, y, strength=1e-3)) == pytest.approx(0.0, abs=1e-6)
    reversed_embs = [e.flip(0) for e in embs]
    assert float(ranking.hop_ranking_loss(reversed_embs, y, strength=1e-3)) == pytest.approx(2.0, abs=1e-6)


@pytest.mark.parametrize("impl", ["torchsort", "reference"])
def test_gradients_flow_and_improve_the_ranking(impl, monkeypatch):
    if impl == "reference":
        monkeypatch.setattr(ranking, "torchsort", None)
    else:
        pytest.importorskip("torchsort")
    torch.manual_seed(0)
    y = torch.randn(50)
    h = torch.randn(50, 4, requires_grad=True)
    opt = torch.optim.SGD([h], lr=0.5)
    before = ranking.hop_ranking_loss([h], y).item()
    for _ in range(50):
        loss = ranking.hop_ranking_loss([h], y)
        opt.zero_grad()
        loss.backward()
        assert h.grad is not None and h.grad.abs().sum() > 0
        opt.step()
    assert float(ranking.hop_ranking_loss([h], y)) < before - 0.3
