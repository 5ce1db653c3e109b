import pytest
from django.core.exceptions import ValidationError

from networks.rules import nhs_number_is_valid
from networks.validators import validate_nhs_number

pytestmark = pytest.mark.hazard("HAZ-05.C1")


@pytest.mark.parametrize("number", ["9434765919", "943 476 5919", "4010232137", "9990001235"])
def test_it_accepts_valid_nhs_numbers(number):
    assert nhs_number_is_valid(number)


@pytest.mark.parametrize(
    "number",
    [
        "9434765918",
        "943476591",
        "94347659190",
        "abcdefghij",
        "",
        "123456789X",
        "１２３４５６７８９０",
    ],
)
def test_it_rejects_invalid_nhs_numbers(number):
    assert not nhs_number_is_valid(number)


def test_it_rejects_nine_digits_whose_check_digit_would_be_ten():
    # 100000001: weighted sum 10 + 2 = 12, remainder 1, check digit 10: never a valid number.
    assert not any(nhs_number_is_valid(f"100000001{d}") for d in range(10))


def test_the_validator_gives_a_clear_message():
    with pytest.raises(ValidationError, match="valid 10-digit NHS number"):
        validate_nhs_number("9434765918")
