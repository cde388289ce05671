"""Access control: bearer keys for reading, admin keys for changing documents; compared in constant time."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from service.responses import ApiError

bearer = HTTPBearer(
    auto_error=False,
    description="`Authorization: Bearer <key>`, required when the server has RAG_API_KEYS or RAG_ADMIN_KEYS set.",
)
REALM = 'Bearer realm="rag"'
Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]


def _known(given: str, keys: tuple[SecretStr, ...]) -> bool:
    """Whether `given` is one of `keys`; every key is compared, each in constant time."""
    found = False
    for key in keys:
        found |= hmac.compare_digest(given.encode("utf-8"), key.get_secret_value().encode("utf-8"))
    return found


@dataclass(frozen=True)
class KeyRing:
    """The configured keys. No keys at all: everything is open (the server refuses to listen publicly then)."""

    read: tuple[SecretStr, ...]
    admin: tuple[SecretStr, ...]

    @property
    def enabled(self) -> bool:
        return bool(self.read or self.admin)

    def required(self, *, admin: bool) -> bool:
        """Whether a route of this kind asks for a key (as `check` decides)."""
        return bool(self.read or (admin and self.admin))

    def check(self, credentials: HTTPAuthorizationCredentials | None, *, admin: bool) -> None:
        """Raise a 401 (no or unknown key) or a 403 (a read key on an admin route)."""
        if admin and self.admin:
            allowed, readers = self.admin, self.read
        elif self.read:
            allowed, readers = self.read + self.admin, ()
        else:
            return  # no read keys: reading is open (and so is writing when there are no admin keys either)
        if credentials is None:
            raise ApiError(
                401, "unauthorized", "send 'Authorization: Bearer <key>'", headers={"WWW-Authenticate": REALM}
            )
        if _known(credentials.credentials, allowed):
            return
        if _known(credentials.credentials, readers):
            raise ApiError(
                403,
                "forbidden",
                "this key can read but not change documents; use an admin key",
                headers={"WWW-Authenticate": f'{REALM}, error="insufficient_scope"'},
            )
        raise ApiError(
            401, "unauthorized", "unknown key", headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'}
        )


def _keys(request: Request) -> KeyRing:
    keys: KeyRing = request.app.state.keys
    return keys


async def require_reader(request: Request, credentials: Credentials) -> None:
    """Any configured key (read or admin)."""
    _keys(request).check(credentials, admin=False)


async def require_admin(request: Request, credentials: Credentials) -> None:
    """An admin key when RAG_ADMIN_KEYS is set, otherwise any key."""
    _keys(request).check(credentials, admin=True)
