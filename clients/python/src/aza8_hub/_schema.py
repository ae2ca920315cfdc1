# Provisional until the hub serves the operations codegen.py reads.

from __future__ import annotations

from typing import NotRequired, TypedDict


class SubjectDecision(TypedDict):
    active: bool
    maxAge: int
    permissions: list[str]
    sessionActive: bool | None
    tenantId: str
    tool: str
    version: str


class UsageBatchEvent(TypedDict):
    count: NotRequired[int]
    eventId: NotRequired[str]
    occurredAt: NotRequired[str]
    toolAction: str
