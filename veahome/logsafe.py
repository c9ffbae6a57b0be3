"""Untrusted text (what hubs and clients send) as it may appear in a log line.

A hub controls its payloads and part of its topics: logged as they came, a newline would
start a forged log line, ANSI escapes would repaint a terminal, NUL bytes would cut the
line for some readers. `untrusted` escapes every control and non-ASCII character
(`\\n`, `\\x1b`, `\\x00`, `\\u2028`), backslashes included, and bounds the length.
"""
LIMIT = 200


def untrusted(value, limit: int = LIMIT) -> str:
    if isinstance(value, bytes | bytearray):
        text = bytes(value[: limit * 4]).decode("utf-8", "replace")
        total = len(value)
    else:
        text = value if isinstance(value, str) else str(value)
        total = len(text)
    clipped = text[:limit].encode("unicode_escape").decode("ascii")
    return clipped + (f"...(+{total - limit} more)" if total > limit else "")
