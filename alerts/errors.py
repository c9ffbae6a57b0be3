"""Error codes of alerts (veahome.error_codes)."""
from veahome.error_codes import ErrorCode


class AlertError(ErrorCode):
    ILLEGAL_TRANSITION = ("alert_transition", 409,
                          "The alert's status does not allow that step; `status` in the message is its status now.")
