"""``redact`` hides every password and NATS token in the URLs Tally prints and logs."""

import pytest
from faststream.specification import AsyncAPI
from pydantic import ValidationError

from tally.infra.settings import CommonSettings, redact
from tally.runtime.broker import create_broker


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


def test_the_nats_password_is_never_shown() -> None:
    """NATS_PASSWORD is a SecretStr: repr, str and JSON of the settings hide it, the broker's
    AsyncAPI document names only the scheme; nats_auth hands it to nats.connect."""
    secret = "s3cret-0123456789-abcdef"
    settings = CommonSettings(nats_user="gateway", nats_password=secret)
    assert secret not in repr(settings) + str(settings) + settings.model_dump_json()
    assert settings.nats_auth() == {"user": "gateway", "password": secret}
    broker = create_broker(settings, service="gateway")
    document = AsyncAPI(broker, title="t").to_specification().to_json()
    assert secret not in document and "userPassword" in document


def test_a_nats_user_needs_its_password() -> None:
    """NATS_USER without NATS_PASSWORD (or the reverse) is a settings error; neither: no
    credentials are passed."""
    with pytest.raises(ValidationError, match="NATS_USER and NATS_PASSWORD"):
        CommonSettings(nats_user="gateway")
    with pytest.raises(ValidationError, match="keep one"):
        CommonSettings(nats_url="nats://u:p@h:4222", nats_user="u", nats_password="p" * 16)
    assert CommonSettings(nats_user=None, nats_password=None).nats_auth() == {}
