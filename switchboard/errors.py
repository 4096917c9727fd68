"""The core's errors: what went wrong in words a user can act on. Shells map them to their
medium (HTTP statuses in the API, messages in the admin app); no message ever carries a secret."""

from __future__ import annotations

from dataclasses import dataclass


class SwitchboardError(Exception):
    """Base class: `str(error)` is safe to show to the caller."""

    code = "error"


class NotFound(SwitchboardError):
    """The thing does not exist, or the caller may not know that it does."""

    code = "not_found"


class Forbidden(SwitchboardError):
    """The caller is known and may see the thing, but lacks the right to do this."""

    code = "forbidden"


class Conflict(SwitchboardError):
    """The thing is in a state that does not allow this (already done, already there)."""

    code = "conflict"


class Gone(SwitchboardError):
    """The thing existed but can no longer be used (expired, revoked, used up)."""

    code = "gone"


class PreconditionRequired(SwitchboardError):
    """A write that could overwrite someone else's change came without the version it was based on."""

    code = "precondition_required"


class PreconditionFailed(SwitchboardError):
    """The thing changed since the caller read it."""

    code = "precondition_failed"


@dataclass(frozen=True)
class FieldError:
    field: str  # dotted path from the request body's root, e.g. "config.temperature"
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InvalidInput(SwitchboardError):
    """The input breaks a rule; each error names the field."""

    code = "invalid_input"

    def __init__(self, errors: list[FieldError] | FieldError):
        self.errors = [errors] if isinstance(errors, FieldError) else list(errors)
        super().__init__("; ".join(str(e) for e in self.errors))
