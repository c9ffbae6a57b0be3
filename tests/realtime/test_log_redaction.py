"""Tokens in socket URLs never reach a log line, whatever the server logs."""
import logging

from realtime.auth import RedactTokens


def test_token_in_a_logged_path_is_redacted():
    record = logging.LogRecord(
        "uvicorn.error", logging.INFO, __file__, 1, '%s - "WebSocket %s" [accepted]',
        ("127.0.0.1:5000", "/ws?homeId=abc&token=eyJhbGciOi.secret.sig&lastEventId=3"), None,
    )
    RedactTokens().filter(record)
    line = record.getMessage()
    assert "eyJhbGciOi" not in line
    assert "token=[redacted]&lastEventId=3" in line


def test_records_with_mapping_arguments_are_left_intact():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%(path)s", ({"path": "/ws"},), None)
    RedactTokens().filter(record)
    assert record.getMessage() == "/ws"
