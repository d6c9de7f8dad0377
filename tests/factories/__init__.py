"""Data factories shared by the tests."""
