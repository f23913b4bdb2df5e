"""Helpers of the C extension: the exception hierarchy, JSON results and
result types. Nothing here decides a rule; libcrm (C) does."""

from __future__ import annotations

import datetime as _dt
import json as _json
import re as _re
from typing import Any, NamedTuple, Optional


class Error(Exception):
    """Base of every libcrm error. ``code`` is libcrm's code name
    ("CRM_ECONSTRAINT"), ``message`` its message and ``detail`` the
    machine-readable detail (a dict, crm_errdetail)."""

    code: str = "CRM_ERROR"
    message: str = ""
    detail: dict[str, Any] = {}


class InputError(Error, ValueError):
    """CRM_EINVAL: malformed input (bad JSON, metadata, argument); ``offset``
    is the byte offset into the JSON input where parsing failed, or None."""

    offset: Optional[int] = None


class NotFoundError(Error, LookupError):
    """CRM_ENOTFOUND: no such form, field, record or definition."""


class ConflictError(Error):
    """CRM_ECONFLICT: a record's version (or a form an open cursor reads) moved on."""


class ValidationError(Error, ValueError):
    """CRM_ECONSTRAINT: a value failed validation. ``errors`` lists every
    failing field ({"field", "code", "message"}); for a batch ``rows`` lists
    the failing rows ({"index", "errors"})."""

    errors: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []


class AccessDenied(Error, PermissionError):
    """CRM_EPERM: the actor may not do this (also a built-in PermissionError)."""


class ScriptError(Error):
    """CRM_ESCRIPT: a Lua script failed or exceeded its budget; ``location``
    is the chunk and line ("rule.lua:3") when the message names one."""

    location: Optional[str] = None


class BusyError(Error):
    """CRM_EBUSY: the database stayed locked past the busy timeout."""


class OutOfMemory(Error, MemoryError):
    """CRM_ENOMEM."""


class StorageError(Error, OSError):
    """CRM_EIO: the database could not be read or written."""


class LimitError(Error):
    """CRM_ELIMIT: a configured limit was exceeded."""


class ProgrammingError(Error):
    """CRM_EMISUSE, and the binding's own misuse errors: a closed connection,
    cursor or batch, or a connection used by a second thread while a call of
    another thread is running on it."""


class ExistsError(Error):
    """CRM_EEXISTS: the thing to create already exists."""


for _cls in (Error, InputError, NotFoundError, ConflictError, ValidationError, AccessDenied, ScriptError, BusyError,
             OutOfMemory, StorageError, LimitError, ProgrammingError, ExistsError):
    _cls.__module__ = "libcrm"

# By result code (include/crm/common.h); index 0 (CRM_OK) unused.
ERRORS: tuple[Optional[type[Error]], ...] = (None, Error, InputError, NotFoundError, ConflictError, ValidationError, AccessDenied,
          ScriptError, BusyError, OutOfMemory, StorageError, LimitError, ProgrammingError, ExistsError)

_CODE_NAMES = ("CRM_OK", "CRM_ERROR", "CRM_EINVAL", "CRM_ENOTFOUND", "CRM_ECONFLICT", "CRM_ECONSTRAINT",
               "CRM_EPERM", "CRM_ESCRIPT", "CRM_EBUSY", "CRM_ENOMEM", "CRM_EIO", "CRM_ELIMIT",
               "CRM_EMISUSE", "CRM_EEXISTS")

# A Lua location as Lua writes it in a message: chunk name and line.
_LUA_LOCATION = _re.compile(r'((?:\[string "[^"]*"\])|[\w./-]+):(\d+):')


def make_error(code: int, message: str, detail_text: str, offset: int = -1) -> Error:
    cls = (ERRORS[code] if 0 < code < len(ERRORS) else None) or Error
    try:
        detail = _json.loads(detail_text)
    except ValueError:
        detail = {}
    if not isinstance(detail, dict):
        detail = {}
    exc = cls(message)
    exc.code = _CODE_NAMES[code] if 0 <= code < len(_CODE_NAMES) else str(detail.get("code", code))
    exc.message = message
    exc.detail = detail
    if isinstance(exc, ValidationError):
        exc.errors = list(detail.get("errors", []))
        exc.rows = list(detail.get("rows", []))
    elif isinstance(exc, ScriptError):
        m = _LUA_LOCATION.search(message)
        exc.location = f"{m.group(1)}:{m.group(2)}" if m else None
    elif isinstance(exc, InputError):
        exc.offset = offset if offset >= 0 else None
    return exc


# Members of libcrm's JSON results that hold ISO 8601 times.
_TIME_KEYS = frozenset(("at", "started_at", "entered_at", "created_at", "updated_at", "until", "due_at"))


def _times(obj: Any) -> Any:
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in _TIME_KEYS and isinstance(v, str):
                try:
                    obj[k] = _dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
                except ValueError:
                    pass
            elif isinstance(v, (dict, list)):
                _times(v)
    elif isinstance(obj, list):
        for v in obj:
            _times(v)
    return obj


def loads(text: str) -> Any:
    """A JSON result of libcrm as Python: ISO times of the documented time
    members as aware datetimes."""
    return _times(_json.loads(text))


class Column(NamedTuple):
    """A result column: name, label and field type name ("decimal", ...)."""

    name: str
    label: str
    type: str


TYPE_NAMES = ("", "text", "long_text", "integer", "decimal", "number", "boolean", "date", "datetime", "enum",
              "multi_enum", "email", "phone", "url", "ref", "json", "computed", "rollup")
