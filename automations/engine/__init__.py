"""The automation engine.

- `registry`: each trigger, condition and action kind validates its document against the
  home when it is saved (ConfigError with the path of the offending value) ...
- `compiled`: ... and compiles it once into what runs (matchers, checkers, steps);
- `runtime`: matching through the trigger index, runs with traces, modes, the loop guard,
  durable delays and waits, and the tick;
- `sun`: sunrise and sunset at the home's location.
"""
from .registry import ACTIONS, CONDITIONS, TRIGGERS, ConfigError, validate_actions, validate_conditions, validate_trigger

__all__ = [
    "ACTIONS", "CONDITIONS", "TRIGGERS", "ConfigError",
    "validate_actions", "validate_conditions", "validate_trigger",
]
