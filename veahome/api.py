"""Shared API building blocks: pagination and the base model serializer."""
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    page_size_query_param = "pageSize"
    max_page_size = 500
