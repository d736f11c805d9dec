"""Measuring the assistant on public data sets (`bankbot eval`, `bankbot fit-thresholds`)."""
