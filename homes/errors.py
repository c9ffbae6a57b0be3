"""Error codes of accounts, homes and memberships (catalogued in veahome.error_codes)."""
from veahome.error_codes import ErrorCode


class AccountError(ErrorCode):
    TOKEN_INVALID = "token_invalid", 401, "The refresh token is invalid, expired or already used: log in again."
    EMAIL_TAKEN = "email_taken", 409, "An account with this email already exists."
    LOGIN_LOCKED = "login_locked", 429, (
        "Too many failed logins for this email from this client, or from anywhere for a client that has not"
        " logged in to it before; Retry-After says when to try again."
    )


class HomeError(ErrorCode):
    ROLE_REQUIRED = "role_required", 403, "The caller's role in the home is too low for this."
    ROLE_NOT_ASSIGNABLE = "role_not_assignable", 403, "The caller's role cannot grant or change that role."
    INVITATION_EXPIRED = "invitation_expired", 409, "The invitation has expired: ask the home's admins for a new one."
    INVITATION_NOT_PENDING = "invitation_not_pending", 409, "The invitation was already accepted, declined or revoked."
    OWNER_CANNOT_LEAVE = "owner_cannot_leave", 409, "The owner cannot be removed from the home."
    HOME_LIMIT = "home_limit", 409, "The home holds as many of these as it may (HOME_MAX_* settings; docs/api.md, Limits)."
