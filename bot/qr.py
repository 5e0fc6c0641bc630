"""QR codes in images: bytes in, decoded payloads out.

Called by whoever brings an image in (the puppet adapter, the local puppet,
replay) before the engine sees the message, so rules can match the payload
(``weixin://``, a shop URL) while the engine stays free of I/O. zxing-cpp
ships wheels and needs nothing downloaded at run time.
"""

from __future__ import annotations

import io
import logging

log = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000


def decode_qr(data: bytes) -> tuple[str, ...]:
    """Return the text of every QR code in the image, or ``()``.

    Never raises: an unreadable, oversized or non-image file is logged and
    treated as having no QR code.
    """
    if not data or len(data) > MAX_IMAGE_BYTES:
        return ()
    try:
        import zxingcpp
        from PIL import Image

        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_PIXELS:
                log.warning("image of %dx%d pixels too large for QR decoding", img.width, img.height)
                return ()
            gray = img.convert("L")
            found = zxingcpp.read_barcodes(
                gray, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
            )
    except Exception as exc:  # a broken upload must never stop moderation
        log.warning("cannot decode image for QR codes: %s", exc)
        return ()
    seen: dict[str, None] = {}
    for barcode in found:
        if barcode.text:
            seen.setdefault(barcode.text, None)
    return tuple(seen)
