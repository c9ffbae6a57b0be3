"""Error codes of history and energy: series queries and tariffs."""
from veahome.error_codes import ErrorCode


class EnergyError(ErrorCode):
    TOO_MANY_POINTS = "too_many_points", 400, "The range and interval would return more points than allowed."
    TARIFF_IN_PAST = "tariff_in_past", 400, "A tariff can only be moved to a future date."
    TARIFF_EXISTS = "tariff_exists", 409, "A tariff already starts on that date."
    TARIFF_IN_EFFECT = "tariff_in_effect", 409, "The tariff already applies; changing it would change past costs."
