"""Specification of lindiff_verify.theory.next_order: next-order equivalents (X.5) and two finite models (X.4)."""

import numpy as np
import pytest

from lindiff_verify.model.errors import InputError
from lindiff_verify.theory import next_order as no
from lindiff_verify.theory import replica
from lindiff_verify.theory.finite_n import expected_logdet, expected_trace_inverse
from lindiff_verify.theory.real_gaussian import corrected_traces

SIG = np.linspace(0.4, 2.5, 16)
Z = np.array([0.03, 0.4, 2.0])


def _x5():
    from derivations.extensions import x5_next_order_measures

    return x5_next_order_measures


@pytest.mark.parametrize("est", [False, True])
def test_leading_order_is_replicas(est):
    e = replica.Equivalents.from_spectrum(Z, SIG, 12, est)
    n = no.NextOrder.from_spectrum(Z, SIG, 12, est, order="leading")
    for a in ("tr_R", "tr_Sigma_R", "tr_R2", "tr_R_Sigma_R", "delta_R_delta", "delta_R2_delta", "logdet"):
        np.testing.assert_allclose(getattr(n, a), getattr(e, a), rtol=1e-12, err_msg=a)
    kw = dict(c=0.2, estimated_mean=est)
    np.testing.assert_allclose(no.test_loss(Z, SIG, 12, order="leading", **kw), replica.averaged_test_loss(Z, SIG, 12, **kw))
    np.testing.assert_allclose(no.train_loss(Z, SIG, 12, order="leading", **kw), replica.averaged_train_loss(Z, SIG, 12, **kw))
    np.testing.assert_allclose(no.alignment(Z, SIG, 12, order="leading", **kw), replica.averaged_alignment(Z, SIG, 12, **kw))
    np.testing.assert_allclose(no.kl(Z, SIG, 12, estimated_mean=est, order="leading"),
                               replica.averaged_kl(Z, SIG, 12, estimated_mean=est))


@pytest.mark.parametrize("est", [False, True])
def test_second_order_traces_are_derivatives_of_the_first_order_ones(est):
    # E Tr R² = −∂z E Tr R and E Tr RΣ0R = −∂z E Tr Σ0R hold for the corrected forms too (central differences)
    h = 1e-5
    up = no.NextOrder.from_spectrum(Z * (1 + h), SIG, 12, est)
    dn = no.NextOrder.from_spectrum(Z * (1 - h), SIG, 12, est)
    e = no.NextOrder.from_spectrum(Z, SIG, 12, est)
    np.testing.assert_allclose(-(up.tr_R - dn.tr_R) / (2 * h * Z), e.tr_R2, rtol=1e-7)
    np.testing.assert_allclose(-(up.tr_Sigma_R - dn.tr_Sigma_R) / (2 * h * Z), e.tr_R_Sigma_R, rtol=1e-7)
    # and E ln det is the antiderivative of E Tr R
    np.testing.assert_allclose((up.logdet - dn.logdet) / (2 * h * Z), e.tr_R, rtol=1e-7)


def test_first_order_correction_agrees_with_x1_to_its_order():
    # X.1 (fixed point) and X.5 (linearised generating function) differ by O(1/N²) relative in a trace:
    # doubling d and N at fixed ratio shrinks d·|difference/value| about twofold
    rel = []
    for m in (1, 2, 4):
        sig = np.tile(SIG, m)
        a, _ = corrected_traces(0.4, sig, 24 * m)
        rel.append(abs(no.NextOrder.from_spectrum(0.4, sig, 24 * m).tr_R / a - 1) * sig.size)
    assert rel[1] / rel[0] < 0.6 and rel[2] / rel[1] < 0.6


def test_library_equals_the_x5_statement():
    x5 = _x5()
    for est in (False, True):
        for qv, cv in ((0.05, 0.0), (0.7, 0.3)):
            vals = x5._sums(SIG, 12, est, qv, cv)
            e = no.NextOrder.from_spectrum(qv + cv, SIG, 12, est)
            got = {"trR": e.tr_R, "trSR": e.tr_Sigma_R, "trR2": e.tr_R2, "trRSR": e.tr_R_Sigma_R,
                   "trSRSR": e.tr_Sigma_R_Sigma_R, "dR2d": e.delta_R2_delta,
                   "logdet": e.logdet - float(np.log(SIG).sum()),
                   "test": no.test_loss(qv, SIG, 12, c=cv, estimated_mean=est),
                   "train": no.train_loss(qv, SIG, 12, c=cv, estimated_mean=est),
                   "gap": no.gap(qv, SIG, 12, c=cv, estimated_mean=est),
                   "align": no.alignment(qv, SIG, 12, c=cv, estimated_mean=est),
                   "kl2": 2 * no.kl(qv + cv, SIG, 12, estimated_mean=est)}
            for k, v in got.items():
                want = float(x5.checks.lambdify(x5.ARGS, x5.STATEMENT[k])(*[vals[s] for s in x5.ARGS]))
                assert v == pytest.approx(want, rel=1e-10, abs=1e-12), (k, est, qv)


def test_inverse_wishart_limits_by_hand():
    # z → 0, Σ0 = I, N > d + 1 (known mean): κ → 0, p_ab → d/N = α, D → 1 − α, so
    # ΔE Tr R → ρα/(1 − α) = α/(1 − α)² and ΔE ln det → ½ ln(1 − α). Exact O(1) terms (finite_n): E Tr C⁻¹ =
    # N d/(N − d − 1) = N d/(N − d) + α/(1 − α)² + O(1/d); E ln det C − leading → ½ ln(1 − α) + O(1/d)
    d, n = 400, 800
    e = no.NextOrder.from_spectrum(1e-10, np.ones(d), n)
    lead = no.NextOrder.from_spectrum(1e-10, np.ones(d), n, order="leading")
    a = d / n
    assert e.tr_R - lead.tr_R == pytest.approx(a / (1 - a) ** 2, rel=1e-6)
    assert e.logdet - lead.logdet == pytest.approx(0.5 * np.log(1 - a), rel=1e-6)
    assert abs(e.tr_R - expected_trace_inverse(d, n)) < 0.05 * abs(lead.tr_R - expected_trace_inverse(d, n))
    assert abs(e.logdet - expected_logdet(d, n)) < 0.05 * abs(lead.logdet - expected_logdet(d, n))


def test_corrections_are_order_one_in_d():
    # O(1) corrections to O(d) traces: at fixed N/d and z, the correction stays bounded as d grows tenfold
    c = [no.NextOrder.from_spectrum(0.3, np.tile(SIG, m), 2 * 16 * m).corrections["tr_R2"] for m in (1, 10)]
    assert 0.5 < float(c[1][0] / c[0][0]) < 2


def test_two_models_recover_eq14_and_are_symmetric():
    q, n, n2 = np.array([0.05, 0.5]), 20, 60
    a = no.alignment_two_models(q, SIG, n, n2, c=0.1, estimated_mean=True)
    b = no.alignment_two_models(q, SIG, n2, n, c=0.1, estimated_mean=True)
    np.testing.assert_allclose(a, b, rtol=1e-12)
    inf = no.alignment_two_models(q, SIG, n, None, c=0.1)
    big = no.alignment_two_models(q, SIG, n, 10**8, c=0.1)
    np.testing.assert_allclose(inf, no.alignment(q, SIG, n, c=0.1))
    np.testing.assert_allclose(big, inf, rtol=1e-6)
    # N′ = N: twice the fluctuation part of one model, 2q[E Tr R(Σ0+q)R + E δᵀR²δ − Σ(σ+q) E[R]_ii²]
    e = no.NextOrder.from_spectrum(q + 0.1, SIG, n, True)
    own = e.tr_R_Sigma_R + q * e.tr_R2 + e.delta_R2_delta
    same = 2 * q * (own - ((SIG[None, :] + q[:, None]) * e.mean_resolvent_diag() ** 2).sum(1))
    np.testing.assert_allclose(no.alignment_two_models(q, SIG, n, n, c=0.1, estimated_mean=True), same, rtol=1e-12)


def test_alignment_equals_test_loss_minus_population_loss_at_c0():
    # ε∞ is the population-optimal predictor at c = 0: E A = E L_test − Σσ/(σ + q) (exact identity per set)
    q = np.array([0.02, 0.3, 3.0])
    for est in (False, True):
        lhs = no.alignment(q, SIG, 10, estimated_mean=est)
        rhs = no.test_loss(q, SIG, 10, estimated_mean=est) - (SIG[None, :] / (SIG[None, :] + q[:, None])).sum(1)
        np.testing.assert_allclose(lhs, rhs, rtol=1e-10)


@pytest.mark.parametrize("kw, name", [(dict(order="next"), "order"), (dict(z=-1.0), "z"), (dict(n=0), "n_samples"),
                                      (dict(spectrum=[1.0, -2.0]), "spectrum")])
def test_bad_input(kw, name):
    args = dict(z=0.1, spectrum=[1.0, 2.0], n=5, order="corrected") | kw
    with pytest.raises(InputError, match=name):
        no.NextOrder.from_spectrum(args["z"], args["spectrum"], args["n"], order=args["order"])


def test_bad_input_measures():
    with pytest.raises(InputError, match="c"):
        no.test_loss(0.1, [1.0], 5, c=-1.0)
    with pytest.raises(InputError, match="q"):
        no.gap(0.0, [1.0], 5)
    with pytest.raises(InputError, match="n_samples"):
        no.alignment_two_models(0.1, [1.0], 5, 0)
