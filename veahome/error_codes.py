"""The catalogue of error codes: every `error.code` the API can answer, with its HTTP status
and what it means for a client.

Each app names its domain's codes in its own `errors.py` (`homes.errors.AccountError`,
`hubs.errors.HubError`, ...); this module holds the codes every endpoint shares and
`catalogue()`, from which `docs/api.md`'s table (`manage.py error_codes --write`) and the
OpenAPI error descriptions are generated. `ApplicationError` takes only catalogued codes.
"""
from enum import StrEnum


class ErrorCode(StrEnum):
    """A code, its HTTP status and its meaning: `NAME = "code", status, "meaning"`."""

    def __new__(cls, value: str, status: int, meaning: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.status = status
        member.meaning = meaning
        return member


class ApiError(ErrorCode):
    """Codes any endpoint may answer, whatever its domain."""

    INVALID = "invalid", 400, "A field is wrong; `fields` maps each field path to its messages."
    MALFORMED_BODY = "malformed_body", 400, "The body is not JSON this API reads (not JSON, nested too deep, NUL or lone surrogates)."
    BAD_REQUEST = "bad_request", 400, "The request itself is malformed (e.g. a Host header this server does not serve)."
    NOT_AUTHENTICATED = "not_authenticated", 401, "No access token was sent."
    AUTHENTICATION_FAILED = "authentication_failed", 401, "The access token is invalid or expired: refresh it."
    INVALID_CREDENTIALS = "invalid_credentials", 401, "Wrong email and password, or wrong hub serial and factory secret."
    PERMISSION_DENIED = "permission_denied", 403, "The caller may not do this."
    NOT_FOUND = "not_found", 404, "No such object, or one of a home the caller is not a member of."
    METHOD_NOT_ALLOWED = "method_not_allowed", 405, "The route has no such verb."
    NOT_ACCEPTABLE = "not_acceptable", 406, "The Accept header asks for a format the API does not produce."
    BODY_TOO_LARGE = "body_too_large", 413, "The body is larger than MAX_BODY_BYTES."
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type", 415, "The body is not application/json."
    THROTTLED = "throttled", 429, "Too many attempts; Retry-After says when to try again."
    SERVER_ERROR = "server_error", 500, "A bug on the server's side; it is logged."


def catalogue() -> list[type[ErrorCode]]:
    """Every code family, shared codes first."""
    from alerts.errors import AlertError
    from devices.errors import DeviceError
    from energy.errors import EnergyError
    from homes.errors import AccountError, HomeError
    from hubs.errors import HubError

    return [ApiError, AccountError, HomeError, HubError, DeviceError, EnergyError, AlertError]


def all_codes() -> list[ErrorCode]:
    return [code for family in catalogue() for code in family]


def codes_for_status(status: int) -> list[ErrorCode]:
    return [code for code in all_codes() if code.status == status]


def markdown_table() -> str:
    """The table docs/api.md shows (`manage.py error_codes --write` puts it there)."""
    lines = ["| status | code | family | meaning |", "| --- | --- | --- | --- |"]
    for code in sorted(all_codes(), key=lambda c: (c.status, c.value)):
        lines.append(f"| {code.status} | `{code.value}` | {type(code).__name__} | {code.meaning} |")
    return "\n".join(lines) + "\n"
