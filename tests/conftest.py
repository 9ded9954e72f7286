"""Fixtures shared by the unit tests."""

import textwrap

import pytest

USER_DERIVATION = textwrap.dedent('''
    import sympy as sp
    from lindiff_verify.verification import checks
    from lindiff_verify.verification.registry import Case, Derivation, Mutant, PaperRef, Variable

    x = sp.Symbol("x", positive=True)

    def _identity(st):
        return {{"(1+x)^2 expanded": st["square"] - (x**2 + 2*x + 1)}}

    def _numeric(st, ref, ctx):
        f = checks.lambdify((x,), st["square"])
        return [Case({{"x": v}}, f(v), (1 + v) ** 2, 1e-12 * (1 + v) ** 2) for v in (0.5, 2.0, 7.0)]

    square = Derivation(
        id="X.9{n}", title="A user's binomial square", paper_ref=PaperRef("X.9{n}", "user extension"),
        statement={{"square": {claim}}},
        variables=[Variable(x, "a positive number", "x > 0")],
        checks=[checks.symbolic("expand", _identity),
                checks.numeric("floats", "numeric", _numeric, error_model="float64 rounding")],
        mutants=[Mutant("no cross term", "x^2 + 1", replace={{"square": x**2 + 1}}),
                 Mutant("wrong constant", "x^2 + 2x + 2", replace={{"square": x**2 + 2*x + 2}})],
    )
''')


def write_user_derivation(folder, n=1, claim="(1 + x)**2"):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"user_{n}.py"
    path.write_text(USER_DERIVATION.format(n=n, claim=claim))
    return path


@pytest.fixture(name="write_user_derivation")
def _write_user_derivation_fixture():
    """``write(folder, n=1, claim="(1 + x)**2")`` writes a user derivation file with id X.9n."""
    return write_user_derivation
