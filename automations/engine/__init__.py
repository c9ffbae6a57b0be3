"""The automation engine: registries of triggers, conditions and actions.

Each kind registers a validator that checks a config document against the home when it
is saved (raising ConfigError with the path of the offending value).
"""
from .registry import ACTIONS, CONDITIONS, TRIGGERS, ConfigError, validate_actions, validate_conditions, validate_trigger

__all__ = [
    "ACTIONS", "CONDITIONS", "TRIGGERS", "ConfigError",
    "validate_actions", "validate_conditions", "validate_trigger",
]
