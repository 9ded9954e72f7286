"""Appendix D — replica theory at finite N (D.11–D.22)."""
