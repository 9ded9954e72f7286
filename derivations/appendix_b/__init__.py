"""Appendix B — learning dynamics of the linear denoiser."""
