"""Driving the Django admin's change forms as a browser would: read the page's form and its
inline formsets, change some fields, post it all back."""

from __future__ import annotations

from typing import Any

from django.forms import BaseForm


def _form_values(form: BaseForm) -> dict[str, Any]:
    """What the browser would submit for an unbound form: each field's initial value, by its html name."""
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form.get_initial_for_field(field, name)
        if value is None or getattr(field.widget, "input_type", "") == "file":
            continue
        if isinstance(value, bool):
            if value:
                data[form.add_prefix(name)] = "on"
            continue
        data[form.add_prefix(name)] = field.prepare_value(value)  # as the widget renders it (JSON, ids...)
    return data


def change_form_data(client, url: str, **changes: Any) -> dict[str, Any]:
    """The change page's whole form as it stands, with `changes` (html names) applied; a change
    to False unticks a checkbox."""
    context = client.get(url).context
    data = _form_values(context["adminform"].form)
    for inline in context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        data.update({management.add_prefix(k): v for k, v in management.initial.items()})
        for form in formset.initial_forms:
            data.update(_form_values(form))
    for key, value in changes.items():
        if value is False:
            data.pop(key, None)
        else:
            data[key] = "on" if value is True else value
    return data


def add_inline_row(data: dict[str, Any], prefix: str, **fields: Any) -> dict[str, Any]:
    """Append a new row to the inline formset `prefix` (as the admin's "Add another" does)."""
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
    data.update({f"{prefix}-{index}-{name}": value for name, value in fields.items()})
    return data
