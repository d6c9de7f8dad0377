"""The nats-server configuration generated from the permission table: one user per identity
with its password (literal or from the environment) and allow-lists; never allow-all."""

import re
from pathlib import Path

import pytest

from tally.contracts.access import IDENTITIES, Identity, Permissions, permissions
from tally.contracts.streams import stream_configs
from tally.contracts.subjects import Subjects
from tally.runtime.nats_config import (
    EnvVar,
    authorization,
    password_variable,
    server_config,
)

TABLE = permissions(Subjects("tally"))
PASSWORDS: dict[Identity, str] = {i: f"{i}-password-0123456789" for i in IDENTITIES}


def _block(text: str, user: str) -> str:
    """The lines of ``user``'s entry."""
    start = text.index(f'user: "{user}"')
    return text[start : text.index("\n    }", start)]


def test_one_user_per_identity_with_its_password_and_permissions() -> None:
    """Every identity is a user named after it, with its password, its publish and subscribe
    allow-lists in the table's order, and allow_responses only where granted."""
    text = authorization(TABLE, PASSWORDS)
    assert re.findall(r'user: "(\w+)"', text) == list(IDENTITIES)
    for identity, granted in TABLE.items():
        block = _block(text, identity)
        assert f'password: "{PASSWORDS[identity]}"' in block
        publish = block[block.index("publish:") : block.index("subscribe:")]
        assert re.findall(r'^ +"(.+)",$', publish, re.M) == list(granted.publish)
        assert ("allow_responses: true" in block) == granted.allow_responses


def test_passwords_can_come_from_the_environment() -> None:
    """An EnvVar password is written as ``$NAME``, unquoted, for nats-server to resolve."""
    text = authorization(TABLE, {i: password_variable(i) for i in IDENTITIES})
    assert "password: $NATS_PASSWORD_GATEWAY\n" in text
    assert '"$NATS_PASSWORD' not in text


def test_an_identity_without_permissions_is_denied_everything() -> None:
    """An empty allow-list would allow all: it becomes ``deny: [">"]``."""
    text = authorization({"cli": Permissions(publish=(), subscribe=())}, PASSWORDS)
    assert text.count('{ deny: [">"] }') == 2


@pytest.mark.parametrize("password", ["short", 'with"quote-0123456789', "with space 0123456789"])
def test_a_password_that_cannot_be_written_safely_is_refused(password: str) -> None:
    """Too short, or holding a quote, a backslash or a space: ValueError, not a broken file."""
    with pytest.raises(ValueError, match="NATS password"):
        authorization(TABLE, {**PASSWORDS, "gateway": password})


def test_a_missing_password_or_a_bad_variable_name_is_refused() -> None:
    """Every identity needs a password; a variable name is upper-case letters, digits, _."""
    with pytest.raises(KeyError):
        authorization(TABLE, {"gateway": PASSWORDS["gateway"]})
    with pytest.raises(ValueError, match="variable"):
        EnvVar("nats-password")


def test_the_server_config_listens_where_asked_with_jetstream() -> None:
    """Host, port, the JetStream store and the log file head the authorization block."""
    text = server_config(
        TABLE,
        PASSWORDS,
        host="127.0.0.1",
        port=14999,
        store_dir=Path("/data/nats"),
        log_file=Path("/data/nats/log"),
    )
    assert 'host: "127.0.0.1"\nport: 14999\njetstream { store_dir: "/data/nats" }' in text
    assert 'log_file: "/data/nats/log"' in text
    assert text.endswith(authorization(TABLE, PASSWORDS))


def test_the_table_names_the_configured_streams() -> None:
    """``Subjects.streams``, which the table grants, are the streams the broker declares."""
    subjects = Subjects("tally")
    assert [config.name for config in stream_configs(subjects)] == subjects.streams
