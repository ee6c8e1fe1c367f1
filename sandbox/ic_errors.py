"""OneRoster error bodies: the 1.2 `imsx_StatusInfoDType`, and 1.1's `statusInfoSet` form."""

import json
from collections.abc import Iterable

JSON_TYPE = "application/json; charset=utf-8"
Response = tuple[int, list[tuple[str, str]], bytes]

# 1.1 spells some code minor values with spaces, others with underscores (reference §1.5).
CODE_MINOR_V11 = {
    "fullsuccess": "full success",
    "unknownobject": "unknown object",
    "invaliddata": "invalid data",
    "unauthorisedrequest": "unauthorized",
}
STATUS_TEXT = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class GradebookError(Exception):
    """Answered as an imsx failure: `GradebookError(422, "invaliddata", "lineItem.title: ...")`."""

    def __init__(
        self,
        status: int,
        code_minor: str,
        description: str,
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        super().__init__(description)
        self.status = status
        self.code_minor = code_minor
        self.description = description
        self.headers = list(headers)


def status_info(code_minor: str, description: str, version: str = "1.2") -> dict:
    if version == "1.1":
        code_minor = CODE_MINOR_V11.get(code_minor, code_minor)
    field = {"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": code_minor}
    return {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": description,
        "imsx_CodeMinor": {"imsx_codeMinorField": [field]},
    }


def error_response(error: GradebookError, version: str = "1.2") -> Response:
    info = status_info(error.code_minor, error.description, version)
    payload = {"statusInfoSet": [info]} if version == "1.1" else info
    headers = [("Content-Type", JSON_TYPE), *error.headers]
    return error.status, headers, json.dumps(payload).encode()
