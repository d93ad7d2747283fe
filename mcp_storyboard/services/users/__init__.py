"""User accounts (bcrypt passwords) and API tokens (SHA-256 of 256-bit secrets): ``docs/users.md``."""

from mcp_storyboard.services.users.passwords import MIN_PASSWORD_CHARS, MIN_ROUNDS, PasswordHasher
from mcp_storyboard.services.users.service import UserService, UserUpdate
from mcp_storyboard.services.users.tokens import ApiTokenService, IssuedToken, VerifiedToken
from mcp_storyboard.services.users.views import TokenView, UserView

__all__ = [
    "MIN_PASSWORD_CHARS", "MIN_ROUNDS", "ApiTokenService", "IssuedToken", "PasswordHasher", "TokenView",
    "UserService", "UserUpdate", "UserView", "VerifiedToken",
]  # fmt: skip
