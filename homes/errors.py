"""Error codes of accounts, homes and memberships (catalogued in veahome.error_codes)."""
from veahome.error_codes import ErrorCode


class AccountError(ErrorCode):
    TOKEN_INVALID = "token_invalid", 401, "The refresh token is invalid, expired or already used: log in again."
    EMAIL_TAKEN = "email_taken", 409, "An account with this email already exists."


class HomeError(ErrorCode):
    ROLE_REQUIRED = "role_required", 403, "The caller's role in the home is too low for this."
    ROLE_NOT_ASSIGNABLE = "role_not_assignable", 403, "The caller's role cannot grant or change that role."
    USER_NOT_FOUND = "user_not_found", 400, "No account uses this email."
    ALREADY_MEMBER = "already_member", 409, "This person is already a member of the home."
    OWNER_CANNOT_LEAVE = "owner_cannot_leave", 409, "The owner cannot be removed from the home."
    HOME_LIMIT = "home_limit", 409, "The home holds as many of these as it may (HOME_MAX_* settings; docs/api.md, Limits)."
