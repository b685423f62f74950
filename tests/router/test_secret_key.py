"""The embedded key is generated once, kept owner-only, and a wrong key is a clear error."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from router.app import create_app
from router.crypto import SecretBox
from router.errors import SecretKeyMismatch
from router.secret_key import MissingSecretKey, resolve_secret_key
from router.settings import Settings
from tests.conftest import MakeOmni


def test_embedded_key_is_generated_once_owner_only(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/data/omniroute.db"
    first = resolve_secret_key(None, url)
    key_file = tmp_path / "data" / "omniroute.key"
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert resolve_secret_key(None, url) == first
    assert resolve_secret_key("configured", url) == "configured"


def test_server_store_needs_an_explicit_key() -> None:
    with pytest.raises(MissingSecretKey, match="OMNIROUTE_SECRET_KEY must be set"):
        resolve_secret_key(None, "postgresql+asyncpg://db/omniroute")


def test_sealed_secrets_need_the_same_key() -> None:
    token = SecretBox("one key").seal({"bot_token": "123:abc"})
    assert SecretBox("one key").open(token) == {"bot_token": "123:abc"}
    with pytest.raises(SecretKeyMismatch, match="cannot be decrypted"):
        SecretBox("another key").open(token)


async def test_starting_with_another_key_fails_loudly(
    make_omni: MakeOmni, database_url: str
) -> None:
    first = await make_omni()
    await first.create_channel("api", "bot", {})
    await first.stop()
    app = create_app(Settings(database_url=database_url, secret_key="a-different-key"))
    with pytest.raises(SecretKeyMismatch, match="not the key this database was set up with"):
        async with app.router.lifespan_context(app):
            pass
