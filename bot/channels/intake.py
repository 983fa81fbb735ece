"""Guards every chat webhook applies before trusting a request: body size, content type, a JSON object."""

from __future__ import annotations

import json
from typing import Any

from fastapi import HTTPException, Request

MAX_BODY_BYTES = 1_000_000  # both platforms send a few kilobytes per delivery


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The raw body, or 413 as soon as it exceeds `limit` (declared or actually sent)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, "request body too large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, "request body too large")
        chunks.append(chunk)
    return b"".join(chunks)


def require_json(request: Request) -> None:
    """415 unless the request says it carries JSON."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise HTTPException(415, "expected application/json")


def json_object(body: bytes) -> dict[str, Any]:
    """The body parsed as a JSON object, or 400."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # bad JSON, bad UTF-8, absurd nesting
        raise HTTPException(400, "malformed JSON") from None
    if not isinstance(data, dict):
        raise HTTPException(400, "expected a JSON object")
    return data
