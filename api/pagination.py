"""Page-number pagination whose page size a client may lower or raise, within a bound."""

from rest_framework.pagination import PageNumberPagination


class ViolationPagination(PageNumberPagination):
    # page_size stays the project default (REST_FRAMEWORK["PAGE_SIZE"]).
    page_size_query_param = "page_size"
    max_page_size = 1000
