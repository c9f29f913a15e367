"""The mailbox: the files the clearinghouse has for the submitter (277CAs, 835s), oldest first, kept until
picked up and deleted, as an SFTP mailbox holds them. In memory, for the life of the process."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import count
from typing import Literal

from rcm_common.errors import NotFound

FileKind = Literal["277CA", "835"]


@dataclass(frozen=True, slots=True)
class MailboxFile:
    id: str
    kind: FileKind
    payer_id: str
    created_at: datetime
    content: str

    @property
    def size(self) -> int:
        return len(self.content.encode())


class Mailbox:
    def __init__(self) -> None:
        self._files: dict[str, MailboxFile] = {}
        self._numbers = count(1)

    def put(self, kind: FileKind, payer_id: str, content: str, created_at: datetime) -> MailboxFile:
        file = MailboxFile(f"{kind.lower()}-{next(self._numbers):06d}", kind, payer_id, created_at, content)
        self._files[file.id] = file
        return file

    def files(self) -> list[MailboxFile]:
        return list(self._files.values())

    def get(self, file_id: str) -> MailboxFile:
        if (file := self._files.get(file_id)) is None:
            raise NotFound("No file in the mailbox has this id.")
        return file

    def delete(self, file_id: str) -> None:
        self.get(file_id)
        del self._files[file_id]
