"""The DCB0129 / DCB0160 clinical risk matrix: severity × likelihood → risk rating 1–5.

Source: NHS Digital, *DCB0129: Clinical Risk Management: its Application in the Manufacture of
Health IT Systems — Implementation Guidance* (the DCB0160 Implementation Guidance uses the same
matrix), section "Risk estimation": five consequence (severity) categories, five likelihood
categories, the 5 × 5 risk matrix that combines them into a clinical risk rating from 1 to 5, and
the example risk acceptability definitions. The matrix is a lookup table, not a product of two
scores: major × medium is 3, not 12.

The category descriptions below are short paraphrases of the guidance's tables, for the rendered
safety case; the guidance itself is the authority.
"""

from __future__ import annotations

# Worst last: the index of a category is its position on the matrix's axis.
SEVERITIES: tuple[str, ...] = ("minor", "significant", "considerable", "major", "catastrophic")
LIKELIHOODS: tuple[str, ...] = ("very low", "low", "medium", "high", "very high")

# RISK_MATRIX[likelihood][severity] -> rating. Rows: likelihood very low .. very high;
# columns: severity minor .. catastrophic (the guidance prints the rows the other way up).
RISK_MATRIX: dict[str, dict[str, int]] = {
    likelihood: dict(zip(SEVERITIES, row, strict=True))
    for likelihood, row in zip(
        LIKELIHOODS,
        (
            (1, 1, 2, 2, 3),  # very low
            (1, 2, 2, 3, 4),  # low
            (2, 2, 3, 3, 4),  # medium
            (2, 3, 3, 4, 5),  # high
            (3, 4, 4, 5, 5),  # very high
        ),
        strict=True,
    )
}

ACCEPTABILITY: dict[int, str] = {
    1: "Acceptable; no further action required.",
    2: "Acceptable where the cost of further reduction outweighs the benefit, or further "
    "reduction is impractical.",
    3: "Undesirable: attempt to eliminate the hazard or add controls; acceptable only when further "
    "risk reduction is impractical.",
    4: "Mandatory elimination of the hazard or addition of controls to reduce the risk to an "
    "acceptable level.",
    5: "Unacceptable.",
}

SEVERITY_MEANING: dict[str, str] = {
    "minor": "minor injury or psychological upset with short-term recovery; inconvenience",
    "significant": "minor injury with long-term recovery, or significant psychological trauma, "
    "for one person; or minor harm to several",
    "considerable": "severe injury or incapacity from which recovery is expected, for one person; "
    "or significant psychological trauma to several",
    "major": "death, or life-changing injury or incapacity, of one person; or psychological "
    "trauma to several",
    "catastrophic": "death, or life-changing injury or incapacity, of several people",
}

LIKELIHOOD_MEANING: dict[str, str] = {
    "very high": "certain or almost certain; expected to occur",
    "high": "not certain but very possible; expected in most cases",
    "medium": "possible",
    "low": "could occur, but on most occasions will not",
    "very low": "negligible or nearly negligible possibility",
}


def risk_rating(*, severity: str, likelihood: str) -> int:
    """The clinical risk rating (1 = acceptable … 5 = unacceptable) of severity × likelihood.

    `severity` is one of SEVERITIES and `likelihood` one of LIKELIHOODS, lower case as written
    there. Raises ValueError naming the unknown category otherwise.
    """
    if severity not in SEVERITIES:
        raise ValueError(f"unknown severity {severity!r}; expected one of {', '.join(SEVERITIES)}")
    if likelihood not in LIKELIHOODS:
        raise ValueError(
            f"unknown likelihood {likelihood!r}; expected one of {', '.join(LIKELIHOODS)}"
        )
    return RISK_MATRIX[likelihood][severity]
