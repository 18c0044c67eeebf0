import numpy as np
import pytest

from autobuild.data.equations import EquationError, LabelEquation

LABELS = {"acc": np.array([0.75, 0.80]), "latency_gpu": np.array([10.0, 20.0]),
          "PQ": np.array([36.0, 49.0]), "flops": np.array([4.0, 9.0])}


@pytest.mark.parametrize("text, expected", [
    ("acc", [0.75, 0.80]),
    ("acc*100/latency_gpu", [7.5, 4.0]),
    ("100**acc/log10(latency_gpu)", [100 ** 0.75 / 1.0, 100 ** 0.80 / np.log10(20.0)]),
    ("sqrt(PQ)-sqrt(flops)", [4.0, 4.0]),
    ("-latency_gpu + 2 * (acc > 0.78)", [-10.0, -18.0]),
    ("maximum(acc, 0.78) - minimum(latency_gpu, 15) % 4", [0.78 - 2.0, 0.80 - 3.0]),
])
def test_equations_evaluate_over_label_arrays(text, expected):
    eq = LabelEquation(text)
    np.testing.assert_allclose(eq.evaluate(LABELS), expected)


def test_names_are_collected():
    assert LabelEquation("100**acc/log10(latency_gpu)").names == ("acc", "latency_gpu")


@pytest.mark.parametrize("text, message", [
    ("__import__('os').system('true')", "not allowed"),
    ("acc.__class__", "Attribute"),
    ("open('x')", "call of 'open' is not allowed"),
    ("acc +", "not valid syntax"),
    ("lambda: 1", "Lambda"),
    ("[acc for acc in x]", "ListComp"),
    ("'text'", "only numbers"),
    ("np.log(acc)", "call of 'np.log'"),
    ("log", "is a function"),
    ("", "non-empty"),
    ("sqrt(acc, key=1)", "keyword"),
])
def test_refused_equations(text, message):
    with pytest.raises(EquationError, match=message):
        LabelEquation(text)


def test_unknown_label_names_are_refused_with_the_available_ones():
    with pytest.raises(EquationError, match=r"unknown label\(s\) \['latency_tpu'\].*available"):
        LabelEquation("acc/latency_tpu").evaluate(LABELS)
    with pytest.raises(EquationError, match="unknown label"):
        LabelEquation("accuracy", allowed_names=LABELS)
