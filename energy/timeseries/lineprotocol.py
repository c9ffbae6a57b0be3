"""InfluxDB line protocol and InfluxQL quoting, kept apart because escaping is where bugs hide.

Line protocol escapes differ per element: measurement names escape commas and spaces;
tag keys, tag values and field keys also escape equals signs; string field values (not
used here: every field is a float) would escape double quotes. Backslashes elsewhere are
kept literally by InfluxDB, so they are not escaped; a name ending in one would escape
the separator after it and is refused. Newlines end a line and cannot be escaped at all,
so they are replaced.
InfluxQL has its own rules: identifiers in double quotes, string literals in single quotes.
"""
import datetime
import math
import re

_MEASUREMENT = re.compile(r"([, ])")
_KEY = re.compile(r"([,= ])")


def _clean(text: str) -> str:
    text = str(text).replace("\n", " ").replace("\r", " ")
    if text.endswith("\\"):
        raise ValueError(f"a line-protocol name cannot end with a backslash: {text!r}")
    return text


def escape_measurement(name: str) -> str:
    return _MEASUREMENT.sub(r"\\\1", _clean(name))


def escape_key(name: str) -> str:
    """Tag keys, tag values and field keys."""
    return _KEY.sub(r"\\\1", _clean(name))


def format_float(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        raise ValueError("line protocol has no NaN or infinity")
    text = repr(float(value))
    return text


def epoch_us(ts: datetime.datetime) -> int:
    delta = ts.astimezone(datetime.timezone.utc) - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def line(measurement: str, tags: dict[str, str], fields: dict[str, float], ts: datetime.datetime) -> str:
    """One point; tags sorted by key (InfluxDB's preferred order), empty tag values left out."""
    tag_part = "".join(
        f",{escape_key(k)}={escape_key(v)}" for k, v in sorted(tags.items()) if v not in (None, "")
    )
    field_part = ",".join(f"{escape_key(k)}={format_float(v)}" for k, v in fields.items())
    return f"{escape_measurement(measurement)}{tag_part} {field_part} {epoch_us(ts)}"


def quote_ident(name: str) -> str:
    return '"' + str(name).replace("\\", "\\\\").replace('"', '\\"') + '"'


def quote_string(value: str) -> str:
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def regex_alternation(names) -> str:
    """An InfluxQL regex literal matching exactly these names."""
    body = "|".join(re.escape(str(n)).replace("/", "\\/") for n in names)
    return f"/^(?:{body})$/"
