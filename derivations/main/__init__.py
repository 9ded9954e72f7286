"""§2–§4 of the paper: eq.2–eq.15 (main text)."""
