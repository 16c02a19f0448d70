"""The media store: every upload goes through here.

With CLOUDINARY_URL set, files go to Cloudinary through its official SDK and URLs carry
Cloudinary's transformations; otherwise they are kept on the local disk under MEDIA_ROOT
and served by musicapp.platform.serve. A stored file is known by a key that says where it lives:

    "local:<path under MEDIA_ROOT>"     "cloudinary:<resource type>:<public id>"

and records imported from MongoDB may hold a plain "https://..." URL, passed through as is.
"""

from __future__ import annotations

import hashlib
import io
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import cloudinary.uploader
import cloudinary.utils
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Model
from PIL import Image, ImageOps, UnidentifiedImageError

from musicapp.platform.errors import InvalidInput, TooLarge

IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


def content_digest(data: bytes) -> str:
    """What stored files are named by: the same bytes, the same name, an unchanging URL."""
    return hashlib.sha256(data).hexdigest()[:32]


@dataclass(frozen=True)
class CheckedImage:
    data: bytes
    format: str
    width: int
    height: int

    @property
    def digest(self) -> str:
        return content_digest(self.data)


def _refuse(field: str, text: str) -> InvalidInput:
    return InvalidInput(f"{field}: {text}", errors={field: [text]})


def check_image(upload: UploadedFile | None, *, field: str, max_bytes: int) -> CheckedImage:
    """A JPEG, PNG or WebP of at most max_bytes, judged by its content, and not too many pixels.

    The pixel count is read from the header before anything is decoded: a 400 KB PNG can
    declare 12000 x 12000 pixels and cost 430 MB to 1.6 GB to decode. PNG and WebP decode
    whole, so they get MAX_IMAGE_PIXELS (12 MP: about 100 MB to decode and shrink); a JPEG decodes at 1/8
    scale for our thumbnails, so MAX_JPEG_PIXELS (100 MP) costs it about 1.6 MP.
    """
    if upload is None:
        raise _refuse(field, "No file was sent.")
    if (upload.size or 0) > max_bytes:
        raise TooLarge(f"{field}: the file is larger than {max_bytes // (1024 * 1024)} MB.")
    data = upload.read()
    try:
        with warnings.catch_warnings():  # Pillow's own bomb warning: we judge the pixels just below
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))  # reads the header only
        with probe:
            kind, (width, height) = probe.format, probe.size
            limit = settings.MAX_JPEG_PIXELS if kind == "JPEG" else settings.MAX_IMAGE_PIXELS
            if kind in IMAGE_FORMATS and width * height > limit:
                raise _refuse(field, f"The image is {width} x {height} pixels; at most {limit / 1e6:g} megapixels.")
            probe.verify()  # the file's structure (chunks, checksums), without decoding pixels
        with Image.open(io.BytesIO(data)) as image:
            _decode_reduced(image, 256)  # decodes for real: a corrupt image fails here, not later
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        kind = None
    if kind not in IMAGE_FORMATS:
        raise _refuse(field, "Upload a JPEG, PNG or WebP image.")
    return CheckedImage(data=data, format=kind, width=width, height=height)


REDUCIBLE_MODES = {"L", "LA", "RGB", "RGBA", "RGBX", "CMYK", "I", "F"}


def _decode_reduced(image: Image.Image, side: int) -> Image.Image:
    """Decode no more than a `side` square needs: JPEG decodes at 1/2..1/8 scale (draft);
    other formats decode whole (bounded by MAX_IMAGE_PIXELS) and are box-reduced at once,
    which, unlike a resample, makes no full-size premultiplied copy of an RGBA image."""
    target = side * 2
    image.draft("RGB", (target, target))
    image.load()
    factor = min(image.size) // target
    if factor >= 2 and image.mode in REDUCIBLE_MODES:
        image = image.reduce(factor)
    image.thumbnail((target, target), Image.Resampling.LANCZOS)
    return image


def square_webp(image: CheckedImage, side: int) -> bytes:
    """Center-cropped square, re-encoded (which also drops EXIF and anything hidden in the file)."""
    with Image.open(io.BytesIO(image.data)) as opened:
        source = ImageOps.exif_transpose(_decode_reduced(opened, side))
        has_alpha = source.mode in ("RGBA", "LA", "PA") or "transparency" in source.info
        square = ImageOps.fit(source.convert("RGBA" if has_alpha else "RGB"), (side, side), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        square.save(out, "WEBP", quality=85, method=4)
        return out.getvalue()


def cloudinary_enabled() -> bool:
    return bool(settings.CLOUDINARY_URL)


def _cloudinary_options() -> dict:
    """CLOUDINARY_URL (cloudinary://key:secret@cloud?opt=...) as per-call SDK options, so the
    configuration follows Django settings instead of the SDK's import-time global."""
    parts = urlsplit(settings.CLOUDINARY_URL)
    options = {
        "cloud_name": parts.hostname,
        "api_key": unquote(parts.username or ""),
        "api_secret": unquote(parts.password or ""),
        "secure": True,
    }
    options.update(parse_qsl(parts.query))
    return options


def _save_local(name: str, data: bytes) -> str:
    # Names are content digests: the same bytes are stored once and their URL never changes.
    if not default_storage.exists(name):
        name = default_storage.save(name, ContentFile(data))
    return f"local:{name}"


def _upload_cloudinary(data: bytes, *, folder: str, digest: str, resource_type: str) -> dict:
    return cloudinary.uploader.upload(
        io.BytesIO(data),
        folder=folder,
        public_id=digest,
        resource_type=resource_type,
        overwrite=True,
        **_cloudinary_options(),
    )


def store_square_image(image: CheckedImage, *, folder: str, side: int) -> str:
    """Store an image to be shown as a square thumbnail; returns its media key.

    Cloudinary keeps the original and crops in the URL; the local store keeps the crop.
    """
    if cloudinary_enabled():
        result = _upload_cloudinary(image.data, folder=folder, digest=image.digest, resource_type="image")
        return f"cloudinary:image:{result['public_id']}"
    return _save_local(f"{folder}/{image.digest}.webp", square_webp(image, side))


def store_generated_image(webp: bytes, *, folder: str) -> str:
    """Store a square WebP the app made itself (demo covers): already the shape the local store
    keeps, so nothing is decoded again. Returns its media key."""
    digest = content_digest(webp)
    if cloudinary_enabled():
        result = _upload_cloudinary(webp, folder=folder, digest=digest, resource_type="image")
        return f"cloudinary:image:{result['public_id']}"
    return _save_local(f"{folder}/{digest}.webp", webp)


def store_audio(data: bytes, *, folder: str, ext: str) -> str:
    """Store an audio file (Cloudinary's "video" resource type covers audio); returns its key."""
    digest = content_digest(data)
    if cloudinary_enabled():
        result = _upload_cloudinary(data, folder=folder, digest=digest, resource_type="video")
        return f"cloudinary:video:{result['public_id']}.{result.get('format') or ext}"
    return _save_local(f"{folder}/{digest}.{ext}", data)


def url(key: str, *, side: int | None = None) -> str | None:
    """The public URL of a stored file (a square `side` x `side` crop for Cloudinary images)."""
    if not key:
        return None
    if key.startswith(("http://", "https://")):
        return key
    where, _, rest = key.partition(":")
    if where == "local":
        return f"{settings.PUBLIC_BASE_URL}/{settings.MEDIA_URL.strip('/')}/{rest}"
    if where == "cloudinary":
        resource_type, _, public_id = rest.partition(":")
        transform: dict[str, Any] = {"quality": "auto"}
        if resource_type == "image":
            transform["fetch_format"] = "auto"
            if side:
                transform.update(width=side, height=side, crop="fill", gravity="auto")
        return cloudinary.utils.cloudinary_url(
            public_id, resource_type=resource_type, **transform, **_cloudinary_options()
        )[0]
    return None


def delete_now(key: str) -> None:
    """Remove a stored file (no-op for external URLs)."""
    if not key or key.startswith(("http://", "https://")):
        return
    where, _, rest = key.partition(":")
    if where == "local":
        default_storage.delete(rest)
    elif where == "cloudinary" and cloudinary_enabled():
        resource_type, _, public_id = rest.partition(":")
        if resource_type == "video":
            public_id = public_id.rsplit(".", 1)[0]  # the key keeps the format; the API wants the bare id
        cloudinary.uploader.destroy(public_id, resource_type=resource_type, invalidate=True, **_cloudinary_options())


def delete_on_commit(key: str) -> None:
    """Remove a stored file once the transaction that stopped using it has committed."""
    transaction.on_commit(lambda: delete_now(key))


# --- orphans ------------------------------------------------------------------------------
# Apps say which of their columns hold media keys (in AppConfig.ready()), so the store can
# tell which local files nothing points at any more without importing an app.

_owners: list[tuple[type[Model], tuple[str, ...]]] = []


def register_owner(model: type[Model], *fields: str) -> None:
    _owners.append((model, fields))


def keys_in_use() -> set[str]:
    used: set[str] = set()
    for model, fields in _owners:
        for field in fields:
            rows = model._default_manager.filter(**{f"{field}__startswith": "local:"}).values_list(field, flat=True)
            used.update(rows.distinct())
    return used


def delete_orphans(*, older_than_hours: float) -> int:
    """Delete local files no row points at. Only files older than the grace period: an upload
    is stored before the row that points at it commits, and must not be taken meanwhile."""
    root = Path(settings.MEDIA_ROOT)
    if not root.is_dir():
        return 0
    used = keys_in_use()
    cutoff = time.time() - older_than_hours * 3600
    deleted = 0
    for path in root.rglob("*"):
        if path.is_file() and path.stat().st_mtime < cutoff and f"local:{path.relative_to(root)}" not in used:
            path.unlink(missing_ok=True)
            deleted += 1
    return deleted
