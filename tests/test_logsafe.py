"""veahome.logsafe: untrusted text cannot break out of its log line."""
from veahome.logsafe import untrusted


def test_control_characters_are_escaped_and_readable():
    assert untrusted("a\nERROR forged\x1b[31m\x00\u2028b") == "a\\nERROR forged\\x1b[31m\\x00\\u2028b"


def test_backslashes_are_escaped_so_an_escape_cannot_be_faked():
    assert untrusted("already \\n escaped") == "already \\\\n escaped"


def test_length_is_bounded_and_says_how_much_was_cut():
    assert untrusted("x" * 1000, limit=10) == "xxxxxxxxxx...(+990 more)"


def test_bytes_are_decoded_leniently():
    assert untrusted(b"ok \xff\n") == "ok \\ufffd\\n"
    assert untrusted(b"y" * 50, limit=4) == "yyyy...(+46 more)"


def test_other_values_are_shown_as_text():
    assert untrusted(42) == "42"
