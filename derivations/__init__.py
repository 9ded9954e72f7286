"""The paper's results as derivation entries, one folder per part of the paper (Merger & Goldt, arXiv:2505.24769).

main/ (§2–§4: eq.2–eq.15), appendix_b/ (learning dynamics), appendix_c/ (sampling dynamics), appendix_d/
(replica theory at finite N), extensions/ (our own results, X.* ids), nonlinear/ (§5). Discovery
(lindiff_verify.verification.registry.discover) walks this package recursively; files whose name starts
with ``_`` are shared helpers, imported normally (relative imports) by the entries that need them. In a
wheel this folder ships as ``lindiff_verify.builtin_derivations``.
"""
