"""Live updates: per-home websocket feed."""


def publish(home_id, event: str, data: dict) -> None:
    from .events import publish as _publish

    _publish(home_id, event, data)
