"""Assets in an S3-compatible bucket (AWS S3, MinIO, Ceph, moto...), shared by every
machine that names the same ``s3://bucket/prefix``.

The object key is ``<prefix>/ab/cd/<sha256>.<ext>``: the row's logical path with the
prefix standing for ``assets/``. A PUT is atomic (a reader sees the whole object or none)
and durable when it returns, so ``put`` returning before the row is committed keeps the
folder store's rule: no row ever names a missing or partial object. ``put`` asks (HEAD)
before it uploads, so equal bytes are sent once; an object already there is made young
again (copied onto itself) so ``Store.clean_orphans`` spares it until the row names it.

Readers get a local path through a bounded read-through cache (``asset_cache.py``) under
the data dir; what this machine stores goes into it too, since it is read next. A
download is checked against the size the server gives and the sha256 in its name.

What differs from a folder: there are no temp files in a bucket; what a killed writer can
leave is an unfinished multipart upload, which ``remove_stale_temp_files`` aborts (with the
cache's own temp files). Ages for ``clean_orphans`` are the server's (its ``Date`` less
the object's ``Last-Modified``), so a skewed local clock does not matter.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from museforge.storage.asset_cache import DEFAULT_CACHE_BYTES, AssetCache
from museforge.storage.assets import (
    ASSET_DIR,
    TMP_STALE_AGE_S,
    AssetFile,
    AssetStat,
    inner,
    relpath,
)
from museforge.storage.errors import AssetsUnavailable, StorageError

CHUNK = 1 << 20
# An existing object this much older is copied onto itself by put(), so that
# clean_orphans (which spares objects younger than a minute) spares it too.
REFRESH_AGE_S = 20.0
_REFUSED = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken",
            "InvalidToken", "InvalidClientTokenId", "AuthorizationHeaderMalformed", "403"}
_MISSING_BUCKET = {"NoSuchBucket"}
_MISSING_KEY = {"NoSuchKey", "404", "NotFound"}
log = logging.getLogger(__name__)


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> ("bucket", "some/prefix")."""
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc or parsed.query or parsed.fragment:
        raise StorageError(f"'{url}' is not an object store URL like s3://bucket/prefix")
    prefix = parsed.path.strip("/")
    if any(part in ("", ".", "..") for part in prefix.split("/")) and prefix:
        raise StorageError(f"the prefix in '{url}' has an empty, '.' or '..' part")
    return parsed.netloc, prefix


class S3AssetStore:
    def __init__(self, bucket: str, prefix: str, home: Path, *,
                 endpoint_url: str | None = None, cache_bytes: int | None = None,
                 max_attempts: int = 3, connect_timeout_s: float = 5.0):
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.home = Path(home)
        self.endpoint_url = endpoint_url
        self.cache = AssetCache(self.home / "cache" / ASSET_DIR,
                                DEFAULT_CACHE_BYTES if cache_bytes is None else cache_bytes)
        config = Config(connect_timeout=connect_timeout_s, read_timeout=60,
                        retries={"max_attempts": max_attempts, "mode": "standard"},
                        # MinIO and most S3-compatible servers answer on one host name.
                        s3={"addressing_style": "path"} if endpoint_url else None)
        # The standard chain: AWS_* variables, ~/.aws files, instance roles; and
        # AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL when no endpoint_url is given.
        self.client: Any = boto3.session.Session().client("s3", endpoint_url=endpoint_url,
                                                          config=config)

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    @property
    def _where(self) -> str:
        return str(self.client.meta.endpoint_url)

    def key(self, rel: str) -> str:
        rest = inner(rel)
        return f"{self.prefix}/{rest}" if self.prefix else rest

    def rel(self, key: str) -> str:
        rest = key[len(self.prefix) + 1:] if self.prefix else key
        return f"{ASSET_DIR}/{rest}"

    def check(self) -> None:
        """Raise ``AssetsUnavailable`` unless the bucket answers to these credentials."""
        self._call("reach", None, self.client.head_bucket, Bucket=self.bucket)

    def put(self, data: bytes, mime: str) -> AssetFile:
        sha = hashlib.sha256(data).hexdigest()
        rel = relpath(sha, mime)
        key = self.key(rel)
        found = self._head(key)
        if found is not None and found.size == len(data):
            if found.age_s > REFRESH_AGE_S:
                self._call("refresh", key, self.client.copy_object, Bucket=self.bucket,
                           Key=key, CopySource={"Bucket": self.bucket, "Key": key},
                           MetadataDirective="REPLACE", ContentType=mime)
        else:
            # S3 and MinIO check the bytes against this sha256 before they keep them.
            self._call("store", key, self.client.put_object, Bucket=self.bucket, Key=key,
                       Body=data, ContentType=mime,
                       ChecksumSHA256=base64.b64encode(bytes.fromhex(sha)).decode())
        self.cache.add(rel, data)
        return AssetFile(sha, mime, len(data), rel)

    def abspath(self, rel: str) -> Path:
        return self.cache.get(rel, lambda fh: self._download(rel, fh))

    def all_files(self) -> list[str]:
        names: list[str] = []
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}/" if self.prefix else "")
        for page in self._call("list", None, lambda: list(pages)):
            names.extend(self.rel(obj["Key"]) for obj in page.get("Contents", []))
        return sorted(names)

    def stat(self, rel: str) -> AssetStat | None:
        return self._head(self.key(rel))

    def sha256_of(self, rel: str) -> str:
        key = self.key(rel)
        digest, _ = self._call("read", key, _copy, self._get(key), None)
        return str(digest.hexdigest())

    def delete(self, rel: str) -> None:
        self._call("delete", self.key(rel), self.client.delete_object, Bucket=self.bucket,
                   Key=self.key(rel))
        self.cache.discard(rel)

    def remove_stale_temp_files(self, min_age_s: float = TMP_STALE_AGE_S) -> list[str]:
        """Abort the multipart uploads under the prefix begun more than ``min_age_s`` ago
        (a killed writer's; this store's own PUTs are single requests) and remove the
        cache's stale temp files; return the uploads' logical paths and the temp files'
        paths relative to the data dir. A failure is logged, not raised: this runs at
        start-up and must not stop it."""
        removed: list[str] = []
        try:
            now, uploads = self._stale_uploads()
            for upload in uploads:
                if (now - upload["Initiated"]).total_seconds() < min_age_s:
                    continue
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"],
                                                   UploadId=upload["UploadId"])
                removed.append(self.rel(upload["Key"]))
        except (BotoCoreError, ClientError) as exc:
            log.warning("cannot sweep unfinished uploads in %s: %s", self.location, exc)
        removed.extend(str(p.relative_to(self.home))
                       for p in self.cache.remove_stale_temp_files(min_age_s))
        return sorted(removed)

    # -- requests ---------------------------------------------------------------------

    def _stale_uploads(self) -> tuple[datetime, list[dict[str, Any]]]:
        response = self.client.list_multipart_uploads(
            Bucket=self.bucket, Prefix=f"{self.prefix}/" if self.prefix else "")
        return _server_now(response), list(response.get("Uploads", []))

    def _head(self, key: str) -> AssetStat | None:
        try:
            response = self._call("look up", key, self.client.head_object, Bucket=self.bucket,
                                  Key=key)
        except _Missing:
            return None
        age = (_server_now(response) - response["LastModified"]).total_seconds()
        return AssetStat(int(response["ContentLength"]), age)

    def _get(self, key: str) -> dict[str, Any]:
        try:
            return self._call("read", key, self.client.get_object, Bucket=self.bucket, Key=key)
        except _Missing:
            raise StorageError(f"the asset {key} is missing from {self.location}") from None

    def _download(self, rel: str, fh: BinaryIO) -> None:
        key = self.key(rel)
        response = self._get(key)
        digest, size = self._call("read", key, _copy, response, fh)
        if size != int(response["ContentLength"]) or digest.hexdigest() != Path(key).stem:
            raise StorageError(f"the asset {key} in {self.location} is corrupt "
                               f"(its bytes do not hash to its name)")

    def _call(self, what: str, key: str | None, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """``fn(...)``, its failures said in one sentence a person can act on."""
        try:
            return fn(*args, **kwargs)
        except (NoCredentialsError, PartialCredentialsError) as exc:
            raise AssetsUnavailable(
                f"no credentials for the object store {self.location}: set "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)") from exc
        except (EndpointConnectionError, ConnectTimeoutError, ConnectionClosedError,
                ReadTimeoutError) as exc:
            raise AssetsUnavailable(
                f"cannot reach the object store at {self._where} for {self.location}: "
                f"{_reason(exc)}") from exc
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in _MISSING_BUCKET or (what == "reach" and status == 404):
                raise AssetsUnavailable(
                    f"the bucket '{self.bucket}' does not exist at {self._where}; create it "
                    f"(aws s3 mb s3://{self.bucket}) or fix the assets URL") from exc
            if code in _REFUSED or status == 403:
                raise AssetsUnavailable(
                    f"the object store at {self._where} refused these credentials for "
                    f"{self.location} ({code or status})") from exc
            if code in _MISSING_KEY or status == 404:
                raise _Missing(key or "") from exc
            message = exc.response.get("Error", {}).get("Message", "")
            raise StorageError(f"the object store could not {what} "
                               f"{key or self.location}: {code} {message}".rstrip()) from exc
        except BotoCoreError as exc:
            raise StorageError(f"the object store could not {what} "
                               f"{key or self.location}: {exc}") from exc


def _copy(response: dict[str, Any], fh: BinaryIO | None) -> tuple[Any, int]:
    """Read a GET's body in chunks into ``fh`` (when given): its sha256 and size."""
    digest = hashlib.sha256()
    size = 0
    for chunk in response["Body"].iter_chunks(CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if fh is not None:
            fh.write(chunk)
    return digest, size


class _Missing(Exception):
    """A key the bucket does not hold (a 404 that is not a missing bucket)."""


def _server_now(response: dict[str, Any]) -> datetime:
    date = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    if date:
        return parsedate_to_datetime(date)
    return datetime.now(UTC)


def _reason(exc: Exception) -> str:
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
        return "it did not answer in time"
    if isinstance(exc, EndpointConnectionError):
        return "nothing answers there (is the server running, the URL right?)"
    return str(exc)
