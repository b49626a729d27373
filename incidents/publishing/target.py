"""Where the static copy goes: a directory (`file:///srv/status`) or an S3-compatible bucket (`s3://bucket/prefix`).

Both targets replace a file whole: a directory gets a temporary file in the same directory, then an
atomic rename; a bucket stores each object in one PUT. A visitor never sees half a file. A file whose
bytes did not change is not written again. In a directory, each compressible file has a gzip sibling
(`index.html.gz`) that nginx serves as it is (`gzip_static on`); a CDN in front of a bucket compresses itself.

This module does not import models: settings.py calls parse_target() to check PUBLISH_TARGET at start-up.
"""

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

TEMP_PREFIX = ".publishing-"  # our own temporary files (and leftovers of a crash: removed by the next publish)
GZIP_SUFFIX = ".gz"  # a file's precompressed sibling in a directory target


def _replace(final: Path, data: bytes) -> bool:
    """Put `data` at `final` unless it holds those bytes already: a temporary file in the same directory, then an
    atomic rename (readers see the old file or the new one, never a mix). True if written."""
    try:
        if final.read_bytes() == data:
            return False
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        pass
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=final.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temp, 0o644)  # mkstemp makes it 0600; the web server's user must read it
        os.replace(temp, final)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return True


class TargetError(ValueError):
    pass


@dataclass(frozen=True)
class TargetSpec:
    scheme: str  # "file" or "s3"
    location: str  # the directory, or the bucket
    prefix: str = ""  # s3 only: the key prefix, without slashes at either end


def parse_target(value: str) -> TargetSpec:
    """PUBLISH_TARGET as a TargetSpec, or a TargetError that says what is wrong with it."""
    parts = urlsplit(value)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise TargetError(f"a file:// target names a local directory (file:///srv/status), got {value!r}")
        path = unquote(parts.path)
        if not path.startswith("/") or path.rstrip("/") == "":
            raise TargetError(
                f"a file:// target needs an absolute directory other than / (file:///srv/status), got {value!r}"
            )
        if parts.query or parts.fragment:
            raise TargetError(f"a file:// target takes no query or fragment, got {value!r}")
        return TargetSpec("file", path.rstrip("/"))
    if parts.scheme == "s3":
        if not parts.netloc:
            raise TargetError(f"an s3:// target names its bucket (s3://bucket/prefix), got {value!r}")
        if parts.query or parts.fragment:
            raise TargetError(f"an s3:// target takes no query or fragment, got {value!r}")
        return TargetSpec("s3", parts.netloc, parts.path.strip("/"))
    raise TargetError(f"must start with file:// or s3:// (file:///srv/status, s3://bucket/prefix), got {value!r}")


# What a static server or a bucket tells browsers: the API and feeds briefly cacheable, pages revalidated
# (a 304 from nginx or a CDN costs nothing), static assets for an hour.
def cache_control_for(path: str) -> str:
    if path.startswith("static/"):
        return "public, max-age=3600"
    if "api/v2/" in path:
        return "public, max-age=10"
    return "public, max-age=0, must-revalidate"


class FileTarget:
    """A directory tree served by nginx (or any static file server)."""

    def __init__(self, root: str):
        self.root = Path(root)

    def __str__(self):
        return f"file://{self.root}"

    def write(self, path: str, data: bytes, content_type: str) -> bool:
        """Write `data` at `path` (relative, with /) unless it already holds those bytes; true if written.

        A compressible file also gets its gzip sibling (`path.gz`, as nginx's `gzip_static on` serves it), written
        after it the same way; a file that is not compressible has none."""
        from incidents.public_cache.encoding import compressible, encode

        final = self.root / path
        sibling = final.with_name(final.name + GZIP_SUFFIX)
        served = not path.startswith(".")  # .publish-state/ is never served: no sibling
        packed = encode(data, "gzip") if served and compressible(content_type, len(data)) else None
        written = _replace(final, data)
        if packed is not None:
            written = _replace(sibling, packed) or written
        else:
            sibling.unlink(missing_ok=True)
        return written

    def read(self, path: str) -> bytes | None:
        try:
            return (self.root / path).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def list(self, prefix: str = "", skip: tuple[str, ...] = ()) -> set[str]:
        """Every file under `prefix` (relative paths), except those under one of the `skip` prefixes and the
        gzip siblings (they come and go with their file)."""
        found = set()
        for directory, dirs, files in os.walk(self.root / prefix):
            here = Path(directory).relative_to(self.root).as_posix()
            here = "" if here == "." else here + "/"
            dirs[:] = [d for d in dirs if not f"{here}{d}/".startswith(skip)]  # do not walk what is skipped
            found.update(
                here + name for name in files if not (here + name).startswith(skip) and not name.endswith(GZIP_SUFFIX)
            )
        return found

    def delete(self, path: str) -> None:
        (self.root / path).unlink(missing_ok=True)
        (self.root / f"{path}{GZIP_SUFFIX}").unlink(missing_ok=True)
        # Drop the directories this left empty (an incident's own directory), never the root.
        parent = (self.root / path).parent
        while parent != self.root and parent.is_relative_to(self.root):
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent


class S3Target:
    """An S3-compatible bucket through django-storages; each object is written whole in one PUT.

    Credentials, region and endpoint come from django-storages' usual settings or boto3's environment
    (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_S3_ENDPOINT_URL, AWS_S3_REGION_NAME, …).
    """

    def __init__(self, bucket: str, prefix: str = ""):
        from storages.backends.s3 import S3Storage

        class PublishStorage(S3Storage):
            def get_object_parameters(self, name):
                return {**super().get_object_parameters(name), "CacheControl": cache_control_for(name)}

        self.storage = PublishStorage(
            bucket_name=bucket,
            location=prefix,
            file_overwrite=True,
            querystring_auth=False,
            default_acl=None,
        )
        self.bucket_name, self.prefix = bucket, prefix
        self._digests: dict[str, str] | None = None

    def __str__(self):
        return f"s3://{self.bucket_name}/{self.prefix}".rstrip("/")

    def _key(self, path: str) -> str:
        return f"{self.prefix}/{path}" if self.prefix else path

    def _listing(self) -> dict[str, str]:
        """Every object under the prefix with its MD5 (a single-part upload's ETag), read once per publish."""
        if self._digests is None:
            start = f"{self.prefix}/" if self.prefix else ""
            self._digests = {
                obj.key[len(start) :]: obj.e_tag.strip('"') for obj in self.storage.bucket.objects.filter(Prefix=start)
            }
        return self._digests

    def write(self, path: str, data: bytes, content_type: str) -> bool:
        from django.core.files.base import ContentFile

        digest = hashlib.md5(data, usedforsecurity=False).hexdigest()
        if self._listing().get(path) == digest:
            return False
        content = ContentFile(data)
        content.content_type = content_type
        self.storage.save(path, content)
        self._listing()[path] = digest
        return True

    def read(self, path: str) -> bytes | None:
        if path not in self._listing():
            return None
        with self.storage.open(path) as handle:
            return handle.read()

    def list(self, prefix: str = "", skip: tuple[str, ...] = ()) -> set[str]:
        return {p for p in self._listing() if p.startswith(prefix) and not p.startswith(skip)}

    def delete(self, path: str) -> None:
        self.storage.delete(path)
        self._listing().pop(path, None)


def open_target(value: str) -> FileTarget | S3Target:
    spec = parse_target(value)
    if spec.scheme == "file":
        return FileTarget(spec.location)
    return S3Target(spec.location, spec.prefix)
