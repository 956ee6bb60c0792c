"""Checks at the edge of the web API: JSON bodies and numbers from paths and query strings.

Every refusal is an HTTP 400 (or 404) with a Chinese message; nothing a client sends reaches a handler unchecked.
"""

from __future__ import annotations

import json

from aiohttp import web

# bytes of a chat API body: a 10,000-character message fits even as \u-escaped JSON (a longer one is refused)
MAX_BODY = 60 * 1024
MAX_ID = 2**31 - 1  # database integer ids (PostgreSQL INTEGER)


def bad_request(message: str) -> web.HTTPBadRequest:
    """A 400 whose JSON body carries a Chinese `error` message."""
    return web.HTTPBadRequest(
        text=json.dumps({"error": message}, ensure_ascii=False), content_type="application/json"
    )


async def json_object(
    request: web.Request, fields: dict[str, tuple[type, ...]], max_body: int = MAX_BODY
) -> dict:
    """The request body as a flat JSON object whose known `fields` have one of their allowed types.

    Other keys are ignored, but no value may be an array or object (depth 1). An empty body is `{}`; a body over
    `max_body` bytes is refused.
    Raises HTTPBadRequest (Chinese message) for a body too large, not JSON, not an object, nested, or typed wrong."""
    raw = await request.read()
    if len(raw) > max_body:
        raise bad_request("请求内容过长")
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise bad_request("请求内容不是有效的 JSON") from None
    if not isinstance(body, dict):
        raise bad_request("请求内容必须是 JSON 对象")
    if any(isinstance(v, (dict, list)) for v in body.values()):
        raise bad_request("请求内容不能嵌套")
    if any("\x00" in k or (isinstance(v, str) and "\x00" in v) for k, v in body.items()):
        raise bad_request("请求内容含有不允许的控制字符")
    for key, types in fields.items():
        value = body.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, types)):
            raise bad_request(f"字段 {key} 的类型不正确")
    return body


def positive_int(value: str, *, default: int | None = None, maximum: int = MAX_ID) -> int | None:
    """A decimal number 1..maximum from a path or query string (ASCII digits only: '²' and '１' are not numbers);
    `default` when the value is empty, None when it is not such a number."""
    value = value.strip()
    if not value:
        return default
    if not (value.isascii() and value.isdigit()) or len(value) > 10:
        return None
    number = int(value)
    return number if 1 <= number <= maximum else None


async def form_data(request: web.Request):
    """The request's form fields (MultiDict); a body that is not a readable form is an HTTP 400 (Chinese).

    Too large a body stays aiohttp's 413."""
    try:
        form = await request.post()
    except web.HTTPException:
        raise
    except Exception:  # aiohttp's multipart/urlencoded parsers raise several unrelated types for broken input
        raise web.HTTPBadRequest(text="表单内容无法读取，请刷新页面后重试。") from None
    if any("\x00" in k or (isinstance(v, str) and "\x00" in v) for k, v in form.items()):
        raise web.HTTPBadRequest(text="表单内容含有不允许的控制字符。")
    return form
