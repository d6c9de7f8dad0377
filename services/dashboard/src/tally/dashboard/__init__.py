"""The dashboard service: the chat analytics API (FastAPI) and its web pages."""
