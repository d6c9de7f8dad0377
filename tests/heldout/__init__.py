"""Held-out questions for the built-in parser (issue 12), kept apart from the public set."""
