"""Statuspage's list paging: `page` (from 1) and `per_page` (at most 100), answered as a bare list."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from api.inputs import Unprocessable


class PerPagePagination(PageNumberPagination):
    """No count query and no envelope: a page past the end is an empty list; a bad number answers 422."""

    page_query_param = "page"
    page_size_query_param = "per_page"
    page_size = 100
    max_page_size = 100
    max_page = 100_000

    def _number(self, request, name: str, default: int, maximum: int) -> int:
        raw = request.query_params.get(name)
        try:
            value = default if raw in (None, "") else int(raw)
        except ValueError:
            raise Unprocessable(f"{name}: must be a whole number.") from None
        if not 1 <= value <= maximum:
            raise Unprocessable(f"{name}: must be between 1 and {maximum}.")
        return value

    def paginate_queryset(self, queryset, request, view=None):
        """The slice of `queryset` asked for (still a queryset, so prefetches can follow)."""
        number = self._number(request, self.page_query_param, 1, self.max_page)
        size = self._number(request, self.page_size_query_param, self.page_size, self.max_page_size)
        start = (number - 1) * size
        return queryset[start : start + size]

    def get_paginated_response(self, data):
        return Response(data)

    def get_paginated_response_schema(self, schema):
        return schema

    @classmethod
    def parameters(cls) -> list[OpenApiParameter]:
        """The query parameters, for extend_schema on views that are not generic views."""
        return [
            OpenApiParameter(cls.page_query_param, OpenApiTypes.INT, description="Page number, from 1"),
            OpenApiParameter(
                cls.page_size_query_param, OpenApiTypes.INT, description=f"Items per page, at most {cls.max_page_size}"
            ),
        ]
