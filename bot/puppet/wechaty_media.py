"""Bytes of an image or file message, whatever FileBox form the server uses.

A puppet-service server hands media out as a FileBox in JSON form: inline
base64 (small files), a UUID to stream with ``Download`` (1.x servers, files
over 20 KB), a URL (some providers' CDNs) or a QR code's text. The QR check
needs the bytes; a QR-code FileBox needs none, its text is the payload.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import urllib.request
from dataclasses import dataclass
from typing import Any

from bot.puppet import compat
from bot.qr import decode_qr

log = logging.getLogger(__name__)

MAX_MEDIA_BYTES = 20 * 1024 * 1024
URL_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Media:
    name: str = ""
    key: str = ""
    """Content hash: the same picture posted twice has the same key."""
    qr_payloads: tuple[str, ...] = ()


def media_key(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


async def fetch_media(
    puppet: Any, message_id: str, *, image: bool, decode: bool, limit: int = MAX_MEDIA_BYTES
) -> Media:
    """Name, content key and (for images, when ``decode``) QR payloads of a
    message's media. Raises when the media cannot be had; the caller keeps
    the message without them."""
    box = await puppet.media_json(message_id, image)
    name = str(box.get("name") or "")
    kind = box.get("type", box.get("boxType"))
    if kind == compat.BOX_QRCODE:
        text = str(box.get("qrCode") or "")
        return Media(name=name, key=media_key(text.encode()), qr_payloads=(text,) if text else ())
    if kind == compat.BOX_URL:
        data = await asyncio.to_thread(_fetch_url, str(box.get("url") or box.get("remoteUrl") or ""), limit)
    else:
        data = await puppet.media_bytes(box, limit)
    payloads = await asyncio.to_thread(decode_qr, data) if decode else ()
    return Media(name=name, key=media_key(data), qr_payloads=payloads)


def _fetch_url(url: str, limit: int) -> bytes:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url[:80]!r}")
    with urllib.request.urlopen(url, timeout=URL_TIMEOUT_S) as response:
        data = response.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{url[:80]} is larger than {limit} bytes")
    return data
