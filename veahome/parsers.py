"""The one JSON decoder for what clients and hubs send: bounded depth, text PostgreSQL can store.

`loads` refuses, naming the path of the offending value (for a key: of the object holding it):
- containers nested deeper than MAX_DEPTH;
- `\\u0000` in a string or key (PostgreSQL's text and jsonb cannot hold it);
- a lone UTF-16 surrogate such as `\\ud800` in a string or key (it is no character, and
  cannot be encoded as UTF-8);
- NaN, Infinity and numbers too large for a double (not JSON; jsonb refuses them).

Everything that is not JSON at all stays a ParseError (`malformed_body`).
"""
import json
import math
import re

from django.conf import settings
from djangorestframework_camel_case.settings import api_settings as camel_settings
from djangorestframework_camel_case.util import underscoreize
from rest_framework.exceptions import ParseError
from rest_framework import parsers as drf_parsers

from veahome.error_codes import ApiError
from veahome.errors import ApplicationError

MAX_DEPTH = 32
# Path segments longer than this are cut in error reports, so a huge key is not echoed back.
MAX_SEGMENT_CHARS = 64
ROOT = "nonFieldErrors"

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Strings and the punctuation that gives a document its shape; everything else is skipped.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},:]', re.DOTALL)


class Rejected(ValueError):
    """JSON that decodes but is refused; `path` names the value ("" for the document itself)."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path or 'body'}: {reason}")
        self.path = path
        self.reason = reason


def _segment(key) -> str:
    text = str(key)
    return text if len(text) <= MAX_SEGMENT_CHARS else text[:MAX_SEGMENT_CHARS] + "…"


def _join(path: tuple) -> str:
    return ".".join(_segment(p) for p in path)


def _unstorable(text: str) -> str | None:
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    return "contains \\u0000" if found.group() == "\x00" else "contains a lone UTF-16 surrogate"


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


def _check(document, max_depth: int) -> None:
    """Walk the decoded document without recursion, refusing what `loads` documents."""
    stack = [(document, (), 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            reason = _unstorable(value)
            if reason:
                raise Rejected(_join(path), reason)
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise Rejected(_join(path), "number out of range")
        elif isinstance(value, (dict, list)):
            if depth > max_depth:
                raise Rejected(_join(path), f"nested deeper than {max_depth} levels")
            if isinstance(value, dict):
                for key, item in value.items():
                    reason = _unstorable(key)
                    if reason:
                        raise Rejected(_join(path), f"a key {reason}")
                    stack.append((item, (*path, key), depth + 1))
            else:
                stack.extend((item, (*path, index), depth + 1) for index, item in enumerate(value))


def _too_deep_path(text: str, max_depth: int) -> tuple:
    """Where a document too deep to decode first goes below `max_depth` (a scan, no recursion)."""
    stack: list[list] = []  # [is_object, key or index] per open container
    last_string = None
    for match in _TOKEN.finditer(text):
        token = match.group()
        char = token[0]
        if char == '"':
            last_string = token
        elif char in "[{":
            if len(stack) >= max_depth:
                break
            stack.append([char == "{", None if char == "{" else 0])
        elif char in "]}":
            if stack:
                stack.pop()
        elif char == ":" and stack and stack[-1][0]:
            try:
                key = json.loads(last_string) if last_string else None
            except ValueError:
                key = None
            # A key that cannot be shown is left out: the path ends at its object.
            stack[-1][1] = None if key is None or _unstorable(key) else key
        elif char == "," and stack and not stack[-1][0]:
            stack[-1][1] += 1
    path = []
    for _, key in stack:
        if key is None:
            break
        path.append(key)
    return tuple(path)


class _NotFinite(Exception):
    pass


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotFinite
    return value


def loads(data: str | bytes, *, max_depth: int = MAX_DEPTH):
    """Decode `data` (UTF-8 when bytes); Rejected for refused content, ValueError if not JSON.

    Most documents (every hub report) cannot hold what is refused, and the text shows it: with
    no `\\u` escape and no NUL or surrogate in the text no string can hold one, and with no more
    brackets than `max_depth` nothing nests deeper. Those are decoded without the walk; a float
    out of range sends them to the walk, which names where it is.
    """
    text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
    if ("\\u" not in text and text.count("[") + text.count("{") <= max_depth
            and _UNSTORABLE.search(text) is None):
        try:
            return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
        except _NotFinite:
            pass
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        # Deep enough to exhaust the interpreter's stack (a few hundred levels).
        raise Rejected(_join(_too_deep_path(text, max_depth)), f"nested deeper than {max_depth} levels") from None
    _check(document, max_depth)
    return document


def rejected_error(exc: Rejected) -> ApplicationError:
    path = exc.path or ROOT
    message = f"{exc.path}: {exc.reason}" if exc.path else f"The body {exc.reason}."
    return ApplicationError(ApiError.INVALID, message, fields={path: [exc.reason]})


class JSONParser(drf_parsers.JSONParser):
    """The API's parser: `loads`, then camelCase keys to snake_case (documents keep theirs).

    A subclass of DRF's JSONParser because DRF reads the body through `request.body` (which
    enforces MAX_BODY_BYTES, a 413) only for its own JSON and form parsers.
    """
    underscoreize = True

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            document = loads(stream.read().decode(encoding))
        except Rejected as exc:
            raise rejected_error(exc) from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if self.underscoreize:
            # Depth is bounded above, so underscoreize's recursion is too.
            return underscoreize(document, **camel_settings.JSON_UNDERSCOREIZE)
        return document


class KeysAsSentJSONParser(JSONParser):
    """For bodies whose keys are the client's own names (device readings)."""

    underscoreize = False
