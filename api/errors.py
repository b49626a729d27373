"""Every API error is JSON {"error": "<message>"} with the status Statuspage's clients expect."""

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from api.inputs import TooLarge


def _message(detail) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{k}: {_message(v)}" if k != "non_field_errors" else _message(v) for k, v in detail.items())
    if isinstance(detail, list):
        return "; ".join(_message(v) for v in detail)
    return str(detail)


def validation_message(exc: DjangoValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)


def exception_handler(exc, context):
    headers = {}
    if isinstance(exc, DjangoValidationError):
        code, message = status.HTTP_422_UNPROCESSABLE_ENTITY, validation_message(exc)
    elif isinstance(exc, Http404 | ObjectDoesNotExist):
        code, message = status.HTTP_404_NOT_FOUND, str(exc) or "Not found."
    elif isinstance(exc, PermissionDenied):
        code, message = status.HTTP_403_FORBIDDEN, str(exc) or "Permission denied."
    elif isinstance(exc, exceptions.APIException):
        code, message = exc.status_code, _message(exc.detail)
        if isinstance(exc, exceptions.ValidationError):
            code = status.HTTP_422_UNPROCESSABLE_ENTITY
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
    elif isinstance(exc, RequestDataTooBig):
        code, message = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, TooLarge.message()
    elif isinstance(exc, SuspiciousOperation):
        # Django's other refusals of a request (too many form fields, a malformed multipart body).
        code, message = status.HTTP_400_BAD_REQUEST, str(exc) or "Bad request."
    elif isinstance(exc, RecursionError):
        # The last resort behind the JSON parser's depth limit: nesting is the only way input recurses.
        code, message = status.HTTP_400_BAD_REQUEST, "The body is nested too deeply."
    else:
        return None
    set_rollback()
    # A message may quote the input, which may hold lone surrogates that UTF-8 cannot carry.
    message = message.encode("utf-8", "replace").decode("utf-8")
    return Response({"error": message}, status=code, headers=headers)
