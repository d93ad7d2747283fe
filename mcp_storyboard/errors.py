"""The one exception tree of mcp-storyboard.

Services and repositories raise these; only the server layer translates them (to a ``ToolError`` whose
message starts with the stable ``[code]``, or to the SDK's resource errors), and only the CLI turns
``ConfigError`` into a one-line message.

    StoryboardError
    ├── ConfigError            bad settings, unreachable database, missing optional install
    ├── ValidationError        a value outside what a field allows (names the field and the allowed values)
    ├── NotFoundError          an id that does not exist (or is not where the caller said)
    ├── ConflictError          a unique key taken, a timeline overlap, a concurrent change
    │   ├── DuplicateKeyConflict   a unique index refused a write
    │   └── NameTaken              a name is taken ignoring case in its scope
    ├── InvalidStateError      an operation the current state forbids (cycle, depth, missing confirmation)
    ├── CapabilityError        the backend lacks a feature (GridFS or transactions on memory://)
    ├── QueueError             job queue rules (claim, lease, retry)
    ├── ForbiddenError         the caller may not do this (an admin-only tool called by a non-admin over HTTP)
    └── IntegrationError       an external service failed
        ├── ComfyUIError
        ├── CivitAIError
        └── FaceFusionError
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

ErrorCode = Literal[
    "config",
    "invalid-argument",
    "not-found",
    "conflict",
    "duplicate",
    "clip-overlap",
    "invalid-parent",
    "invalid-state",
    "confirmation-required",
    "alternate-not-found",
    "capability",
    "too-large",
    "queue",
    "integration",
    "read-only",
    "forbidden",
    "rate-limited",
]


class StoryboardError(Exception):
    """Root of every error this package raises on purpose.

    ``code`` is stable and machine-readable; ``hint`` is the next step for the caller.
    """

    code: ErrorCode = "invalid-state"

    def __init__(self, message: str, *, hint: str | None = None, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        if not self.hint:
            return self.message
        first_word = self.hint.split(" ", 1)[0].rstrip(":,;")
        # Capitalise a sentence, never an identifier ("generated_images of clip ...", "mongodb://...").
        hint = self.hint[:1].upper() + self.hint[1:] if first_word.isalpha() else self.hint
        return f"{self.message.rstrip('.')}. {hint}"


class ConfigError(StoryboardError):
    """Settings that cannot work; the message says what to change."""

    code: ErrorCode = "config"


class ValidationError(StoryboardError):
    """A value outside what a field allows."""

    code: ErrorCode = "invalid-argument"

    def __init__(self, field: str, message: str, *, allowed: Sequence[object] | None = None, hint: str | None = None):
        if allowed is not None and hint is None:
            hint = "allowed values: " + ", ".join(str(a) for a in allowed)
        super().__init__(f"{field}: {message}", hint=hint)
        self.field = field
        self.allowed = list(allowed) if allowed is not None else None


class NotFoundError(StoryboardError):
    """An id that does not exist."""

    code: ErrorCode = "not-found"

    def __init__(self, kind: str, ident: object, *, hint: str | None = None, code: ErrorCode | None = None):
        super().__init__(f"{kind} '{ident}' does not exist", hint=hint, code=code)
        self.kind = kind
        self.ident = ident


class ConflictError(StoryboardError):
    """A unique key is taken, or the change collides with existing data."""

    code: ErrorCode = "conflict"

    def __init__(self, message: str, *, field: str | None = None, hint: str | None = None, code: ErrorCode | None = None):
        super().__init__(message, hint=hint, code=code)
        self.field = field


class DuplicateKeyConflict(ConflictError):
    """A unique index refused a write; ``field`` names the key."""

    code: ErrorCode = "duplicate"

    def __init__(self, collection: str, field: str, value: object):
        super().__init__(
            f"{collection}.{field} '{value}' is already taken",
            field=field,
            hint=f"choose another {field}",
        )
        self.collection = collection
        self.value = value


class NameTaken(ConflictError):
    """A character's or style template's name is taken, ignoring case, in its scope (a project, or the template
    library); ``holder_id`` is the document holding it (None when it went away before it could be named)."""

    code: ErrorCode = "duplicate"

    def __init__(self, kind: str, scope: str, name: str, holder_id: str | None):
        if holder_id is None:
            message, hint = f"name '{name}' is taken in {scope}", "choose another name, or retry"
        else:
            message = f"name '{name}' is taken: {scope} already has {kind} {holder_id} of that name"
            hint = f"choose another name, or rename {kind} {holder_id} first"
        super().__init__(message + " (names are compared ignoring case)", field="name", hint=hint)
        self.holder_id = holder_id


class InvalidStateError(StoryboardError):
    """The current state forbids the operation."""

    code: ErrorCode = "invalid-state"


class CapabilityError(StoryboardError):
    """The database backend lacks a feature the operation needs."""

    code: ErrorCode = "capability"


class QueueError(StoryboardError):
    """A job-queue rule was broken (claim, lease, retry)."""

    code: ErrorCode = "queue"


class ReadOnlyError(StoryboardError):
    """The server runs read-only (``--read-only``) and the call would write."""

    code: ErrorCode = "read-only"


class ForbiddenError(StoryboardError):
    """The authenticated caller lacks the right (``[forbidden]``); over stdio the local user has every right."""

    code: ErrorCode = "forbidden"


class RateLimitedError(StoryboardError):
    """The caller made more tool calls this minute than its limit allows."""

    code: ErrorCode = "rate-limited"


class IntegrationError(StoryboardError):
    """An external service failed; the message never carries secrets."""

    code: ErrorCode = "integration"


class ComfyUIError(IntegrationError):
    """ComfyUI refused or failed a request."""


class ComfyUINodeErrors(ComfyUIError):
    """ComfyUI refused a graph (HTTP 400 on ``POST /prompt``); ``node_errors`` says which node and input, one
    entry per problem: ``{"node_id", "class_type", "input", "type", "message", "details"}``."""

    def __init__(self, message: str, node_errors: list[dict[str, str]] | None = None, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.node_errors = node_errors or []


class ComfyUIExecutionError(ComfyUIError):
    """A prompt ComfyUI accepted failed while running (``execution_error``) or was interrupted; ``node_id`` and
    ``node_type`` name the failing node when ComfyUI said."""

    def __init__(self, message: str, *, node_id: str | None = None, node_type: str | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.node_id = node_id
        self.node_type = node_type


class CivitAIError(IntegrationError):
    """CivitAI refused or failed a request."""


class FaceFusionError(IntegrationError):
    """The FaceFusion CLI failed."""
