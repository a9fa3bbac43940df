import pytest

from feedback.core.suppression import published_percentage, suppress_count


@pytest.mark.parametrize(
    ("raw", "shown"),
    [(0, "0"), (1, "*"), (7, "*"), (8, "10"), (10, "10"), (12, "10"), (13, "15"),
     (17, "15"), (18, "20"), (22, "20"), (23, "25"), (1002, "1,000"), (1003, "1,005")],
)
def test_small_numbers_are_hidden_and_others_rounded_to_five(raw, shown):
    assert str(suppress_count(raw)) == shown


def test_negative_counts_are_a_programming_error():
    with pytest.raises(ValueError, match="negative"):
        suppress_count(-1)


def test_percentages_come_from_rounded_figures():
    # 13 of 38 is 34% raw; the published figures are 15 of 40, so 38%.
    assert published_percentage(suppress_count(13), suppress_count(38)) == "38%"
    assert published_percentage(suppress_count(5), suppress_count(38)) == "*"
    assert published_percentage(suppress_count(0), suppress_count(0)) == "0%"
