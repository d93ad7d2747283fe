"""User accounts (bcrypt passwords) and API tokens (SHA-256 of 256-bit secrets): ``docs/users.md``."""

from typing import TYPE_CHECKING

from mcp_storyboard.lazy_import import lazy_exports

if TYPE_CHECKING:
    from mcp_storyboard.services.users.passwords import MIN_PASSWORD_CHARS, MIN_ROUNDS, PasswordHasher
    from mcp_storyboard.services.users.service import UserService, UserUpdate
    from mcp_storyboard.services.users.tokens import ApiTokenService, IssuedToken, VerifiedToken
    from mcp_storyboard.services.users.views import TokenView, UserView
else:  # imported on first use, so importing a light sibling (views) does not import the service
    __getattr__, __dir__ = lazy_exports(__name__, {
        "MIN_PASSWORD_CHARS": ".passwords", "MIN_ROUNDS": ".passwords", "PasswordHasher": ".passwords",
        "UserService": ".service", "UserUpdate": ".service", "ApiTokenService": ".tokens", "IssuedToken": ".tokens",
        "VerifiedToken": ".tokens", "TokenView": ".views", "UserView": ".views",
    })

__all__ = [
    "MIN_PASSWORD_CHARS", "MIN_ROUNDS", "ApiTokenService", "IssuedToken", "PasswordHasher", "TokenView",
    "UserService", "UserUpdate", "UserView", "VerifiedToken",
]  # fmt: skip
