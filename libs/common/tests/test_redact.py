"""``redact`` hides every password and NATS token in the URLs Tally prints and logs."""

import pytest

from tally.common.settings import redact


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:p%40ss@db:5432/tally", "postgresql://u:***@db:5432/tally"),
        (
            "postgresql://postgres@127.0.0.1:5432/tally",
            "postgresql://postgres@127.0.0.1:5432/tally",
        ),
        ("nats://tally:s3cr%2Ft@127.0.0.1:4222", "nats://tally:***@127.0.0.1:4222"),
        ("nats://a:one@h1:4222,nats://b:two@h2:4222", "nats://a:***@h1:4222,nats://b:***@h2:4222"),
        ("nats://T0KEN@h:4222", "nats://***@h:4222"),
        ("nats://u:p@ss@h:4222", "nats://u:***@h:4222"),
        ("nats://127.0.0.1:4222", "nats://127.0.0.1:4222"),
        ("postgresql://u:pw@h:notaport/x", "postgresql://u:***@h:notaport/x"),
    ],
)
def test_passwords_and_tokens_are_hidden(url: str, shown: str) -> None:
    """Database URLs (parsed or not), NATS URLs with a password, a token or several servers:
    the credential becomes ``***``; the rest stays readable."""
    assert redact(url) == shown
