"""Extensions beyond the paper: our own results, with X.* ids."""
