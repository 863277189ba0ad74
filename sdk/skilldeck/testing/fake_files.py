"""The fake server's `/v1/files`: uploads (multipart, as the openai client sends them),
retrieval, listing and content download, held in memory.

Kept apart from the batches because a file is only bytes with a name and a purpose: the
batches read their input from here and write their output and error files back, as the
service does, so a client downloads results the way it would from OpenAI.
"""

from __future__ import annotations

import email.parser
import email.policy
import threading
import time
from dataclasses import dataclass

from skilldeck.testing.http_plumbing import Reply, invalid_request, json_reply
from skilldeck.testing.wire import JSONDict, new_id

__all__ = ["FakeFiles", "StoredFile"]

#: The purposes the fake accepts, as the service names them.
PURPOSES = frozenset({"batch", "batch_output", "assistants", "fine-tune", "user_data", "evals"})


@dataclass(frozen=True)
class StoredFile:
    id: str
    filename: str
    purpose: str
    content: bytes
    created_at: int

    def to_json(self) -> JSONDict:
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.content),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "status_details": None,
        }


class FakeFiles:
    """Files by id. Thread-safe: the server's handler threads share it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[str, StoredFile] = {}

    def add(self, filename: str, purpose: str, content: bytes) -> StoredFile:
        stored = StoredFile(new_id("file"), filename, purpose, content, int(time.time()))
        with self._lock:
            self._files[stored.id] = stored
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        with self._lock:
            return self._files.get(file_id)

    def all(self) -> list[StoredFile]:
        with self._lock:
            return list(self._files.values())

    def clear(self) -> None:
        with self._lock:
            self._files.clear()

    # ---- routes

    def upload(self, headers: dict[str, str], raw: bytes) -> Reply:
        """`POST /v1/files`: a multipart form with `purpose` and `file`."""
        content_type = headers.get("content-type", "")
        if not content_type.startswith("multipart/form-data"):
            return invalid_request(400, "Upload a file as multipart/form-data.", param="file")
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
        purpose: str | None = None
        filename, content = None, None
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            if name == "purpose":
                purpose = data.decode("utf-8", errors="replace").strip()
            elif name == "file":
                filename, content = part.get_filename() or "upload", data
        if content is None:
            return invalid_request(400, "The form has no 'file' part.", param="file")
        if purpose not in PURPOSES:
            return invalid_request(
                400,
                f"'{purpose}' is not a valid purpose: use one of {sorted(PURPOSES)}.",
                param="purpose",
            )
        return json_reply(200, self.add(filename or "upload", purpose, content).to_json())

    def retrieve(self, file_id: str) -> Reply:
        stored = self.get(file_id)
        return json_reply(200, stored.to_json()) if stored else _no_file(file_id)

    def content(self, file_id: str) -> Reply:
        stored = self.get(file_id)
        if stored is None:
            return _no_file(file_id)
        return Reply(200, stored.content, content_type="application/octet-stream")

    def listing(self, query: dict[str, str]) -> Reply:
        purpose = query.get("purpose")
        data = [f.to_json() for f in self.all() if purpose is None or f.purpose == purpose]
        return json_reply(200, {"object": "list", "data": data, "has_more": False})


def _no_file(file_id: str) -> Reply:
    return invalid_request(404, f"No such File object: {file_id}", param="id")
