"""Opaque, signed keyset cursors for the product list.

A cursor carries the sort it belongs to, the sort key of the last row of a page and that
row's id (the tie-breaker that makes the order total). It is signed with the service's
secret, so a client can only hand back a cursor the service issued: anything else, or a
cursor of another sort, is a 422 rather than a page that silently starts somewhere odd.
"""

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from datetime import datetime

from ..core.errors import Unprocessable
from .schemas import ProductSort

SortKey = str | int | datetime
_SIGNATURE_BYTES = 16


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Cursors:
    """Encodes and decodes cursors with a key derived from the service's secret."""

    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), b"commerce.cursor", hashlib.sha256).digest()

    def _sign(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()[:_SIGNATURE_BYTES]

    def encode(self, sort: ProductSort, key: SortKey, row_id: uuid.UUID) -> str:
        value = key.isoformat() if isinstance(key, datetime) else key
        body = json.dumps([sort.value, value, row_id.hex], separators=(",", ":")).encode()
        return f"{_b64(body)}.{_b64(self._sign(body))}"

    def decode(self, cursor: str, sort: ProductSort) -> tuple[SortKey, uuid.UUID]:
        """The sort key and id a cursor points after; 422 if it is not one of ours for `sort`."""
        try:
            body_text, _, signature_text = cursor.partition(".")
            body, signature = _unb64(body_text), _unb64(signature_text)
        except (binascii.Error, ValueError) as exc:
            raise Unprocessable("The cursor is not valid: pass a next_cursor unchanged") from exc
        # Only the one spelling we issue: base64's spare low bits in a last character would
        # otherwise let several texts decode to the same signed cursor.
        canonical = f"{_b64(body)}.{_b64(signature)}" == cursor
        if not canonical or not hmac.compare_digest(signature, self._sign(body)):
            raise Unprocessable("The cursor is not valid: pass a next_cursor unchanged")
        cursor_sort, value, row_hex = json.loads(body)
        if cursor_sort != sort.value:
            raise Unprocessable(
                f"The cursor belongs to the sort {cursor_sort!r}, not {sort.value!r}: "
                "keep the sort while paging"
            )
        key: SortKey = datetime.fromisoformat(value) if sort is ProductSort.NEWEST else value
        return key, uuid.UUID(row_hex)
