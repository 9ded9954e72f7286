"""calibrate: the false-alarm rate of a Monte Carlo check, measured over seeds, against what it promises."""

from __future__ import annotations

import textwrap

import pytest
from click.testing import CliRunner
from scipy import stats

from lindiff_verify.cli import main
from lindiff_verify.verification.calibrate import calibrate, clopper_pearson, format_table

# a Monte Carlo check of E[X] = 0 for X ~ N(0, 1) from 400 draws, with a chosen z: the false-alarm rate of
# |mean| > z·SE is exactly P(|Z| > z) (the sample SE is estimated: slightly more for small n)
TOY = textwrap.dedent('''
    import numpy as np
    import sympy as sp
    from lindiff_verify.verification import checks
    from lindiff_verify.verification.registry import Case, Derivation, Mutant, PaperRef, Variable

    mu = sp.Symbol("mu")

    def _draws(ctx):
        return ctx.rng("x").standard_normal(400)

    def _compare(st, x, ctx):
        se = x.std(ddof=1) / np.sqrt(x.size)
        return [Case({{}}, float(st["mean"]), float(x.mean()), {z} * se + {bias})]

    class _Bare(Derivation):  # one check: the registry's ≥ 2 rule is not the subject here
        def validate(self):
            pass

    toy = _Bare(
        id="X.97", title="toy mean", paper_ref=PaperRef("X.97", "test"), statement={{"mean": sp.Integer(0)}},
        variables=[Variable(mu, "mean", "ℝ")],
        checks=[checks.numeric("mean of draws", "montecarlo", _compare, reference=_draws, error_model="z·SE")],
        mutants=[Mutant("four SE off", "0.2", replace={{"mean": sp.Rational(1, 5)}}),
                 Mutant("far off", "1", replace={{"mean": sp.Integer(1)}})],
    )
''')


def _toy(tmp_path, z, bias=0.0):
    p = tmp_path / "toy.py"
    p.write_text(TOY.format(z=z, bias=bias))
    return [str(p)]


@pytest.mark.parametrize("k, n", [(0, 50), (3, 50), (50, 50), (7, 1000)])
def test_clopper_pearson_is_the_exact_binomial_interval(k, n):
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
    assert clopper_pearson(k, n) == pytest.approx((ci.low, ci.high), rel=1e-9, abs=1e-12)


def test_a_too_narrow_tolerance_shows_its_false_alarm_rate(tmp_path):
    res = calibrate(["X.97"], seeds=120, paths=_toy(tmp_path, z=1.0), include_builtin=False)
    c = res["checks"][0]
    lo, hi = c["ci95"]
    assert lo <= 2 * stats.norm.sf(1.0) <= hi  # P(|Z| > 1) = 0.317 is inside the interval
    assert c["exceeds_nominal"] and c["false_alarms"] == round(c["false_alarm_rate"] * 120)


def test_a_correct_tolerance_stays_at_its_nominal_rate_and_kills_are_fractions(tmp_path):
    res = calibrate(["X.97"], seeds=60, paths=_toy(tmp_path, z=3.89), include_builtin=False)
    c = res["checks"][0]
    assert not c["exceeds_nominal"] and c["errors"] == 0
    # a shift by 0.2 = 4 SE ≈ the tolerance z·SE is rejected at about half the seeds: a weak kill; 1 = 20 SE always
    assert 0.2 < c["mutants"]["four SE off"]["kill_fraction"] < 0.9 and c["mutants"]["four SE off"]["weak"]
    assert c["mutants"]["far off"]["kill_fraction"] == 1.0 and not c["mutants"]["far off"]["weak"]
    assert "weak kills" in format_table(res) and "four SE off" in format_table(res)


def test_a_tolerance_that_is_all_bias_bound_has_no_slack(tmp_path):
    # tolerance = a bias bound of 10 (no z·SE), claim 9.8 against a mean 0 ± 0.05: |Δ|/tol ≈ 0.98 at every seed
    paths = _toy(tmp_path, z=0.0, bias=10.0)
    p = tmp_path / "toy.py"
    p.write_text(p.read_text().replace('{"mean": sp.Integer(0)}', '{"mean": sp.Rational(49, 5)}'))
    c = calibrate(["X.97"], seeds=20, paths=paths, include_builtin=False)["checks"][0]
    assert c["no_statistical_slack"] and c["false_alarms"] == 0


def test_cli_calibrate_bad_input_is_one_line(tmp_path):
    r = CliRunner().invoke(main, ["calibrate", "X.97", "--seeds", "0", "--derivations", _toy(tmp_path, 3.89)[0]])
    assert r.exit_code == 2 and "seeds" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(main, ["calibrate", "no.such.id", "--seeds", "2"])
    assert r.exit_code == 2 and "no.such.id" in r.output


@pytest.mark.slow
def test_cheap_monte_carlo_checks_meet_their_nominal_false_alarm_rate_over_200_seeds():
    res = calibrate(["eq.2", "eq.11"], seeds=200, jobs=2)
    for c in res["checks"]:
        assert c["errors"] == 0 and not c["exceeds_nominal"], c
        assert not c["no_statistical_slack"], c
        for m, v in c["mutants"].items():
            assert v["errors"] == 0, (c["id"], m)
