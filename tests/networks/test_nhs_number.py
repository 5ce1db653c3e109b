import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from networks.rules import (
    format_nhs_number,
    nhs_number_checksum_ok,
    nhs_number_is_valid,
    nhs_number_refusal,
)
from networks.validators import validate_nhs_number
from tests.factories import make_service_user, make_team

pytestmark = pytest.mark.hazard("HAZ-05.C1")


@pytest.mark.parametrize("number", ["9434765919", "943 476 5919", "943-476-5919", "4010232137"])
def test_it_accepts_valid_nhs_numbers(number):
    assert nhs_number_is_valid(number)
    assert nhs_number_refusal(number) is None


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


@pytest.mark.parametrize("digit", "0123456789")
def test_it_refuses_placeholders_that_pass_the_check_digit(digit):
    number = digit * 10
    assert nhs_number_checksum_ok(number)  # why the check digit alone let them in
    assert "placeholder" in nhs_number_refusal(number)
    with pytest.raises(ValidationError, match="placeholder"):
        validate_nhs_number(f"{digit * 3} {digit * 3} {digit * 4}")


@pytest.mark.parametrize("number", ["9990000018", "9990001235", "999 000 0018", "9999999999"])
def test_it_refuses_the_test_range(number):
    refusal = nhs_number_refusal(number)
    assert refusal is not None
    if number != "9999999999":  # all nines is a placeholder first
        assert nhs_number_checksum_ok(number)
        assert "reserved for test data" in refusal


@pytest.mark.parametrize("number", ["9989999996", "9434765919"])
def test_the_numbers_next_to_the_test_range_are_accepted(number):
    assert nhs_number_checksum_ok(number)
    assert nhs_number_refusal(number) is None


def test_it_formats_as_three_three_four():
    assert format_nhs_number("9434765919") == "943 476 5919"
    assert format_nhs_number("943-476-5919") == "943 476 5919"
    assert format_nhs_number("12") == "12"


@pytest.mark.django_db
@pytest.mark.parametrize("number", ["1111111111", "9990001235"])
def test_the_database_refuses_them_when_the_forms_are_bypassed(number):
    person = make_service_user(make_team())
    with pytest.raises(IntegrityError), transaction.atomic():
        type(person).objects.filter(pk=person.pk).update(nhs_number=number)
