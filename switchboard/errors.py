"""The core's errors: what went wrong in words a user can act on. Shells map them to their
medium (HTTP statuses in the API, messages in the admin app); no message ever carries a secret."""

from __future__ import annotations

from dataclasses import dataclass


class SwitchboardError(Exception):
    """The root of every error the core raises on purpose: `str(error)` is safe to show to the
    caller. Each error belongs to one family below (a shell maps families, not classes); a
    sharper class only sharpens `code`."""

    code = "error"


class NotFound(SwitchboardError):
    """The thing does not exist, or the caller may not know that it does."""

    code = "not_found"


class Unauthenticated(SwitchboardError):
    """The caller is not who they claim: no or a bad token, signature or password."""

    code = "unauthorized"


class Forbidden(SwitchboardError):
    """The caller is known and may see the thing, but lacks the right to do this."""

    code = "forbidden"


class Refused(SwitchboardError):
    """The input breaks a rule (invalid, malformed, not allowed by a policy): retrying the same
    input will fail the same way."""

    code = "invalid_input"


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


class Limited(SwitchboardError):
    """Too many attempts: `retry_after` whole seconds until one may pass."""

    code = "rate_limited"
    retry_after: int = 60


class Unavailable(SwitchboardError):
    """Something this needs is not serving now (the database, a mail server, a configuration
    the operator has not given); the same request may succeed later."""

    code = "unavailable"


class Upstream(SwitchboardError):
    """A service we called on the caller's behalf (a platform, a vendor) failed or refused; the
    message is ours, never the service's body."""

    code = "upstream_error"


class PlatformNotReady(Conflict):
    """A platform cannot do this for the agent yet; the message says what to set up ("add your
    Retell API key", "save the agent on Vapi first")."""

    code = "platform_not_ready"


class PlatformFailed(Upstream):
    """A platform refused or did not answer; the message is ours (ProviderError.message: a status
    and a short reason), never the platform's body."""

    code = "platform_failed"


@dataclass(frozen=True)
class FieldError:
    field: str  # dotted path from the request body's root, e.g. "config.temperature"
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InvalidInput(Refused):
    """The input breaks a rule; each error names the field."""

    code = "invalid_input"

    def __init__(self, errors: list[FieldError] | FieldError):
        self.errors = [errors] if isinstance(errors, FieldError) else list(errors)
        super().__init__("; ".join(str(e) for e in self.errors))


# --- validation errors in words ----------------------------------------------------------------
# ONE mapping of pydantic's validation errors to sentences about the field, used by the API
# (each `fields[].message`) and the admin app (the sentence under a form). No pydantic text, no
# link to its docs, and never the input itself (it could be a secret): at most its length.
PHONE_EXAMPLE = "+14155550123"
PHONE_RULE = f"a phone number in international form, like {PHONE_EXAMPLE}"

LABELS = {
    "name": "Name", "prompt": "Prompt", "begin_message": "First message", "language": "Language",
    "voice": "Voice", "voice.voice_id": "Voice id", "voice.vendor": "Voice vendor",
    "tools": "Tools", "number": "Transfer number", "max_duration_seconds": "Maximum call length",
    "active_provider": "Platform", "fallback_order": "Fallback order", "traffic_split": "Traffic split",
    "phone_number": "Phone number", "email": "E-mail", "url": "URL",
}

# fields whose pattern has a rule worth saying (the last part of the path)
_PATTERN_RULES = {
    "number": PHONE_RULE, "phone_number": PHONE_RULE, "transfer_number": PHONE_RULE, "from_number": PHONE_RULE,
    "to_number": PHONE_RULE, "to": PHONE_RULE, "from": PHONE_RULE, "e164": PHONE_RULE,
    "language": "a language code like en or en-US",
    "name": "letters, digits, _ and - only (up to 64)",
}


def _n(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def field_message(error: dict) -> str:
    """One pydantic error (an item of `ValidationError.errors()`) as a sentence about its field."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    loc = [p for p in error.get("loc", ()) if isinstance(p, str)]
    last = loc[-1] if loc else ""
    value = error.get("input")
    if kind == "missing":
        return "is required"
    if kind == "string_too_short":
        return "is required" if ctx.get("min_length") == 1 else f"at least {_n(ctx.get('min_length'))} characters"
    if kind == "string_too_long":
        has = f" (this one has {len(value):,})" if isinstance(value, str) else ""
        return f"at most {_n(ctx.get('max_length'))} characters{has}"
    if kind in ("too_short", "too_long"):
        n = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        return f"{'at least' if kind == 'too_short' else 'at most'} {_n(n)} items"
    if kind == "string_pattern_mismatch":
        return _PATTERN_RULES.get(last, "is not in the expected form")
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "a whole number"
    if kind in ("float_type", "float_parsing", "decimal_type", "decimal_parsing"):
        return "a number"
    if kind in ("bool_type", "bool_parsing"):
        return "yes or no (true or false)"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        words = {"greater_than_equal": "at least", "greater_than": "more than", "less_than_equal": "at most",
                 "less_than": "less than"}[kind]
        bound = next((ctx[k] for k in ("ge", "gt", "le", "lt") if k in ctx), "")
        return f"{words} {_n(bound)}"
    if kind == "literal_error" or kind == "enum":
        expected = str(ctx.get("expected", "")).replace("'", "")
        return f"one of {expected}" if expected else "is not one of the accepted values"
    if kind == "extra_forbidden":
        return "is not a field of this request"
    if kind in ("string_type", "string_unicode"):
        return "text"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "an object"
    if kind in ("list_type", "tuple_type", "set_type"):
        return "a list"
    if kind in ("uuid_type", "uuid_parsing"):
        return "an id (a UUID)"
    if kind in ("url_parsing", "url_type", "url_scheme"):
        return "a web address, like https://example.com/hook"
    if kind == "value_error" and isinstance(ctx.get("error"), (str, Exception)):
        return str(ctx["error"])  # a validator of ours: its words
    if kind == "blank":
        return "is required"
    if kind == "union_tag_invalid" or kind == "union_tag_not_found":
        return "is not a known kind"
    if kind == "json_invalid":
        return "is not valid JSON"
    return "is not valid"


def field_path(loc: tuple | list) -> str:
    """A location as the caller wrote it: dotted from the root, list items in brackets."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def field_label(path: str) -> str:
    """A field's name for people: "tools[0].number" → "Transfer number"."""
    plain = path.split("[", 1)[0] if "." not in path else path
    for candidate in (path, ".".join(p.split("[")[0] for p in path.split(".")), path.rsplit(".", 1)[-1], plain):
        if candidate in LABELS:
            return LABELS[candidate]
    tail = path.rsplit(".", 1)[-1].split("[")[0] or "Value"
    return tail.replace("_", " ").capitalize()


def field_errors(errors: list[dict], *, strip: int = 0) -> list[FieldError]:
    """pydantic errors as FieldErrors (path, sentence); `strip` drops leading location parts
    (FastAPI's "body")."""
    return [FieldError(field_path(tuple(e.get("loc", ()))[strip:]) or "body", field_message(e)) for e in errors]


def in_words(errors: list[dict]) -> str:
    """The errors as sentences for a form: "Prompt: at most 20,000 characters (this one has 120,000)." """
    seen: list[str] = []
    for e in errors:
        path = field_path(tuple(e.get("loc", ())))
        # a tagged union reports under the tag ("tools[0].transfer.number"): keep the field
        line = f"{field_label(path)}: {field_message(e)}." if path else f"{field_message(e)[:1].upper()}{field_message(e)[1:]}."
        if line not in seen:
            seen.append(line)
    return " ".join(seen)


def text_problem(name: str, value: object, limit: int) -> str | None:
    """What is wrong with a text field of a request from outside (a platform's), in words, or
    None: a string, at most `limit` characters, without NUL or other control characters
    (Postgres text cannot hold NUL; nothing of ours needs the others)."""
    if not isinstance(value, str):
        return f"{name} must be a string"
    if len(value) > limit:
        return f"{name} is longer than {limit} characters"
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return f"{name} may not contain NUL or other control characters"
    return None
