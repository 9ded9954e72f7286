"""The model and its data: noise schedules, spectra, Gaussian data, input validation, errors, array backend."""
