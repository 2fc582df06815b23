"""A table as a file to download: CSV, or XLSX with a sheet saying what it holds.

Every page's download view (dashboard, board, coherence, strategic plans, annual
reports) builds its `Table` and hands it here, so the formats, content types and
file headers are the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpResponse

from reporting.exports import Table, write_csv, write_xlsx

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXTENSIONS = ("csv", "xlsx")


def table_download(
    table: Table,
    extension: str,
    *,
    filename: str,
    about: Callable[[], list[tuple[str, Any]]],
) -> HttpResponse:
    """The table as an attachment; `about` (the XLSX's second sheet) is only
    worked out for XLSX. An unknown extension is a 404."""
    if extension == "csv":
        response = HttpResponse(write_csv(table), content_type=CSV_CONTENT_TYPE)
    elif extension == "xlsx":
        response = HttpResponse(
            write_xlsx(table, about()), content_type=XLSX_CONTENT_TYPE
        )
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
