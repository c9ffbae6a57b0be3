"""Shared API building blocks: pagination and the filter backend."""
from django.core.paginator import Paginator
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.pagination import PageNumberPagination


class CountSavingPaginator(Paginator):
    """Skips the COUNT query when the first page is not full: then its length is the count.

    Most homes' lists fit one page, so most list requests save a query.
    """

    def page(self, number):
        if str(number) == "1" and "count" not in self.__dict__ and not self.orphans:
            rows = list(self.object_list[: self.per_page])
            if len(rows) < self.per_page:
                self.__dict__["count"] = len(rows)  # fills the cached_property
                return self._get_page(rows, 1, self)
        return super().page(number)


class Pagination(PageNumberPagination):
    django_paginator_class = CountSavingPaginator
    page_size_query_param = "pageSize"
    max_page_size = 500


class FilterBackend(DjangoFilterBackend):
    """django-filter, skipped when the request has no query parameters at all.

    Building and validating a filterset form costs about a millisecond per request, and
    the app's usual list call has no parameters.
    """

    def filter_queryset(self, request, queryset, view):
        if not request.query_params:
            return queryset
        return super().filter_queryset(request, queryset, view)
