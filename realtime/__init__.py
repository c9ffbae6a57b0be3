"""Live updates: per-home websocket feed."""


def publish(home_id, event: str, data: dict) -> None:
    """Send an event to the home's sockets after the current transaction commits (see events.py)."""
    from .events import publish as _publish

    _publish(home_id, event, data)
