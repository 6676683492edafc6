"""Test-session settings shared by the doctests in skxrd/ and the tests in tests/."""

import matplotlib

matplotlib.use("Agg")

# Importing the __main__ module runs the CLI.
collect_ignore = ["skxrd/__main__.py"]
