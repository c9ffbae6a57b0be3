"""Error codes of devices: control and IR/RF learning."""
from veahome.error_codes import ErrorCode


class DeviceError(ErrorCode):
    NOT_CONTROLLABLE = "not_controllable", 409, "The device type cannot be controlled (a sensor)."
    NO_HUB = "no_hub", 409, "The device is not attached to a hub."
    NOT_LEARNABLE = "not_learnable", 409, "Only IR and RF devices learn signals."
    SIGNAL_NOT_LEARNED = "signal_not_learned", 409, "An IR/RF action the command needs has no learned signal; `fields.action` lists them."
