"""REST ``GetWebSocketsToken``: the token a WebSocket v2 client puts in its private requests.

A key without the WebSocket permission (``Account.ws_allowed`` false) is refused with
``EGeneral:Permission denied``. A token is good for 900 seconds from its issue; once a
private subscription uses it, it stays good while that subscription lasts (`kraken_sim.ws`).
Tokens are random, not seeded: nothing in a replay depends on them.
"""

from __future__ import annotations

import secrets
from typing import Final

from kraken_sim.account import Account
from kraken_sim.call import Call
from kraken_sim.wire import ApiError

__all__ = ["TOKEN_LIFETIME", "get_websockets_token", "token_owner"]

TOKEN_LIFETIME: Final = 900


def get_websockets_token(call: Call) -> object:
    account = call.require_account()
    if not account.ws_allowed:
        raise ApiError("EGeneral:Permission denied")
    for token, expires in list(account.ws_tokens.items()):
        if expires < call.now:
            del account.ws_tokens[token]
    token = secrets.token_urlsafe(24)
    account.ws_tokens[token] = call.now + TOKEN_LIFETIME
    return {"token": token, "expires": TOKEN_LIFETIME}


def token_owner(accounts: dict[str, Account], token: str, now: float) -> Account | None:
    """The account a token belongs to, while it is still good."""
    for account in accounts.values():
        expires = account.ws_tokens.get(token)
        if expires is not None and expires >= now:
            return account
    return None
