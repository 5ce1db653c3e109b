from django import template

from outcomes.tables import fmt

register = template.Library()


@register.filter
def cell(value):
    """A dashboard cell as text: shares with their n, suppressed cells, London times."""
    return fmt(value)
