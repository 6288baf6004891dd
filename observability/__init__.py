"""Traces, metrics and logs shared by every Borderflow process (a regular package, so the
wheel's package discovery finds it)."""
