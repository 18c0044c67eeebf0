"""The NAS-Bench-Macro lookup evaluator: measured values by architecture, clear refusals otherwise."""
import pytest

from autobuild.evaluators.macro import MacroLookup
from autobuild.spaces import get_space
from autobuild.spaces.ofa import MBV3


@pytest.fixture(scope="module")
def lookup():
    return MacroLookup()


def test_lookup_gives_the_benchmarks_measured_values(lookup):
    space = get_space("macro")
    out = lookup.evaluate([space.from_string("22212220"), "22222222", "00000000"], "acc")
    assert out.values[0] == pytest.approx(93.1267, abs=1e-3)          # the benchmark's best
    assert out.values[1] == pytest.approx(92.9533, abs=1e-3)
    assert out.values[2] < out.values[1] and out.kind == "measurement" and out.unit == "%"
    assert "NAS-Bench-Macro" in out.backend
    flops = lookup.evaluate(["22222222", "00000000"], "flops").values
    assert flops[0] == lookup.dataset.labels.flops.max() and flops[1] == lookup.dataset.labels.flops.min()
    assert set(lookup.metrics("macro")) == {"acc", "acc_run0", "acc_run1", "acc_run2", "acc_std", "params", "flops"}
    assert lookup.metrics("mbv3") == ()


@pytest.mark.parametrize("arch, message", [
    ("22212223", "8 op digits 0-2"),
    ("2221222", "8 op digits 0-2"),
    (12345678, "expected a macro Architecture or an 8-digit string"),
])
def test_an_architecture_outside_the_space_is_refused(lookup, arch, message):
    with pytest.raises(ValueError, match=message):
        lookup.evaluate(["22222222", arch], "acc")


def test_other_spaces_metrics_and_empty_input_are_refused(lookup):
    with pytest.raises(ValueError, match="space 'mbv3' given to space 'macro'"):
        lookup.evaluate(MBV3.sample(1, seed=0), "acc")
    with pytest.raises(ValueError, match="does not provide 'latency_gpu'"):
        lookup.evaluate(["22222222"], "latency_gpu")
    with pytest.raises(ValueError, match="no architectures"):
        lookup.evaluate([], "acc")
