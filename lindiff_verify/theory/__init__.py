"""Theory: closed forms and solvers of the paper's results (no verdicts, no random draws)."""
