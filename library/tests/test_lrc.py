import pytest

from library.lrc import Line, LrcError, parse


def test_plain_timed_lines_in_order():
    assert parse("[00:02.00]two\n[00:01.50]one") == [Line(1.5, "one"), Line(2.0, "two")]


def test_several_timestamps_share_one_text():
    assert parse("[00:10.00][01:05.25]Chorus") == [Line(10.0, "Chorus"), Line(65.25, "Chorus")]


@pytest.mark.parametrize(
    ("stamp", "seconds"),
    [
        ("[01:02]", 62.0),
        ("[01:02.5]", 62.5),
        ("[01:02.50]", 62.5),
        ("[01:02.500]", 62.5),
        ("[01:02:50]", 62.5),
        ("[100:00.00]", 6000.0),
    ],
)
def test_timestamp_forms(stamp, seconds):
    assert parse(f"{stamp}x")[0].time == seconds


def test_positive_offset_shows_lines_earlier_and_never_before_zero():
    assert parse("[offset:+500]\n[00:00.20]a\n[00:02.00]b") == [Line(0.0, "a"), Line(1.5, "b")]


def test_negative_offset_shows_lines_later():
    assert parse("[offset:-250]\n[00:01.00]a") == [Line(1.25, "a")]


def test_blank_lines_and_metadata_tags_are_skipped():
    text = "\ufeff[ti:Song]\n[ar:Someone]\n\n   \n[length:03:20]\n[00:01.00]only line\n"
    assert parse(text) == [Line(1.0, "only line")]


def test_empty_timed_line_is_kept_as_a_break():
    assert parse("[00:01.00]a\n[00:03.00]\n[00:05.00]b")[1] == Line(3.0, "")


def test_enhanced_lrc_word_times_are_dropped():
    assert parse("[00:01.00]<00:01.10>Hello <00:01.60>world") == [Line(1.0, "Hello world")]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("[00:01.00]ok\nno timestamp here", 2, "timestamp"),
        ("[00:01.00]ok\n\n[00:75.00]bad seconds", 3, "59 seconds"),
        ("[offset:soon]\n[00:01.00]x", 1, "offset"),
        ("[ti:only tags]\n", 1, "no timed lines"),
        ("[00:01.00]ok\n[0x:01.00]typo", 2, "timestamp"),
    ],
)
def test_malformed_lrc_names_its_line(text, line, words):
    with pytest.raises(LrcError) as error:
        parse(text)
    assert error.value.line_number == line
    assert str(error.value).startswith(f"Line {line}:") and words in str(error.value)
