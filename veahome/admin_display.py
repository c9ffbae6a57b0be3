"""Helpers the support admin's pages share: links between objects and counts as subqueries."""
from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html

from .services import model_update


def admin_link(obj, text: str | None = None):
    """A link to `obj`'s admin page, or a dash when there is nothing to link."""
    if obj is None:
        return "-"
    meta = obj._meta
    url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text or str(obj))


def related_link(field: str, ordering: str, label: str | None = None):
    """An admin column: a link to the object in `field`, sorted by `ordering`, showing the
    object's `label` attribute (or its str)."""

    @admin.display(description=field, ordering=ordering)
    def link(modeladmin, obj):
        related = getattr(obj, field)
        return admin_link(related, getattr(related, label) if label and related is not None else None)

    return link


def count_of(model, fk: str, **filters):
    """Rows of `model` pointing at the outer row through `fk`.

    A correlated subquery instead of Count() over joins: several Count()s on one
    queryset multiply the joined rows and get slow and wrong without distinct.
    """
    rows = (
        model._default_manager.filter(**{fk: OuterRef("pk")}, **filters)
        .order_by()
        .values(fk)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


class ServiceBackedAdmin:
    """ModelAdmin mixin: objects are created by the customer's app, and a change made
    here goes through the app's service (`update_service(obj, **changed)`) so that it
    publishes the same events and keeps the same derived fields as a change from the app.

    Only what the agent changed is passed on, judged against the values the page showed
    (every field carries its initial value in a hidden input): a state report that lands
    while the page is open is not "changed back" by a form that still shows the old state.
    """

    update_service = None

    def has_add_permission(self, request, obj=None):
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if change:
            for field in form.base_fields.values():
                field.show_hidden_initial = True
        return form

    def changed_fields(self, form) -> dict:
        return {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}

    def stored(self, obj):
        """The object as the database holds it: the form has already written its values onto
        `obj`, and the service must see what it changes to write only that."""
        return type(obj)._base_manager.get(pk=obj.pk)

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        changed = self.changed_fields(form)
        if self.update_service is None:
            model_update(instance=self.stored(obj), data=changed)
            return
        type(self).update_service(self.stored(obj), **changed)


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record of what happened: support reads it, nobody edits it here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
