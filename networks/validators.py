from django.core.exceptions import ValidationError

from networks.rules import nhs_number_refusal


def validate_nhs_number(value: str) -> None:
    """Refuse a value that is not a person's NHS number, saying why (`nhs_number_refusal`)."""
    refusal = nhs_number_refusal(value)
    if refusal is not None:
        raise ValidationError(refusal, code="invalid_nhs_number")
