from django.core.exceptions import ValidationError

from networks.rules import nhs_number_is_valid


def validate_nhs_number(value: str) -> None:
    if not nhs_number_is_valid(value):
        raise ValidationError(
            "Enter a valid 10-digit NHS number (the last digit is a check digit).",
            code="invalid_nhs_number",
        )
