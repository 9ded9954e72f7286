"""Appendix C — sampling dynamics of the affine linear denoiser (C.6–C.9)."""
