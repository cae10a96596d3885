"""Fault injection on loopback: a Hive-Socket stand-in that fails a chosen share of
requests, and a proxy that breaks the path between the SDK and a real local server.

Which attempt fails, and how, is drawn from a generator seeded with the plan's seed, the
logical call (named by one field of the request body, such as its ``userId``) and the
attempt's number for that call. The faults a call meets are therefore the same on every
run, whatever order concurrent requests arrive in.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web


class Fault(enum.Enum):
    """What happens to one attempt."""

    NONE = "none"
    STATUS_500 = "500"
    STATUS_503 = "503"
    STATUS_429 = "429"
    DROP_BEFORE = "drop before processing"
    DROP_AFTER = "drop after processing"
    LATE = "answer after the timeout"
    HELD = "held past the timeout, then forwarded"

    @property
    def status(self) -> int | None:
        """The HTTP status this fault answers with, if it answers with one."""
        return {Fault.STATUS_500: 500, Fault.STATUS_503: 503, Fault.STATUS_429: 429}.get(self)


SERVER_FAULTS = (
    Fault.STATUS_500,
    Fault.STATUS_503,
    Fault.STATUS_429,
    Fault.DROP_BEFORE,
    Fault.DROP_AFTER,
    Fault.LATE,
)
"""What a failing server does."""

PROXY_FAULTS = (Fault.DROP_BEFORE, Fault.DROP_AFTER, Fault.LATE, Fault.HELD)
"""What a failing network between the SDK and the server does."""


@dataclass(frozen=True)
class Decision:
    """The fault drawn for one attempt, and the Retry-After its answer carries."""

    fault: Fault
    retry_after: str | None = None


@dataclass(frozen=True)
class FaultPlan:
    """Which attempts fail and how.

    Attributes:
        seed: Makes the draws reproducible.
        rate: The share of attempts that fail.
        faults: The faults drawn from, uniformly, for a failing attempt.
        retry_after_share: The share of 5xx/429 answers that carry ``Retry-After: 0``
            (the others carry none, so the client backs off on its own).
        late_by: Seconds a late answer (or a held request) waits: longer than the
            client's timeout.
    """

    seed: int
    rate: float
    faults: tuple[Fault, ...] = SERVER_FAULTS
    retry_after_share: float = 0.8
    late_by: float = 1.0

    def decide(self, call: str, attempt: int) -> Decision:
        """The fault for attempt number ``attempt`` (1 for the first) of ``call``."""
        draw = random.Random(f"{self.seed}/{call}/{attempt}")  # reproducible, not secret
        if draw.random() >= self.rate:
            return Decision(Fault.NONE)
        fault = draw.choice(self.faults)
        if fault.status is None:
            return Decision(fault)
        return Decision(fault, "0" if draw.random() < self.retry_after_share else None)


def call_of(raw: bytes, field: str) -> str:
    """The logical call a request belongs to: the value of ``field`` in its JSON body."""
    body = json.loads(raw) if raw else None
    value = body.get(field) if isinstance(body, dict) else None
    return value if isinstance(value, str) else "?"


@dataclass
class Attempt:
    """One request as a fault injector saw it."""

    decision: Decision
    idempotency_key: str | None


@dataclass
class Figures:
    """What a run measured, for the test output and docs/reliability.md."""

    calls: int
    attempts: int
    faults: Counter[str]
    replayed: int
    processed: int | None = None
    duplicates: int | None = None
    missing_retry_after: int = 0
    extra: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def report(self, title: str) -> str:
        """The figures as a few readable lines (printed by the tests)."""
        processing = (
            ""
            if self.processed is None
            else f"processed {self.processed}, duplicates {self.duplicates}, "
        )
        lines = [
            f"== {title}",
            f"   logical calls {self.calls}, attempts {self.attempts}, {processing}"
            f"answers replayed for a repeated key {self.replayed}",
            "   faults: "
            + (
                ", ".join(f"{kind} x{count}" for kind, count in sorted(self.faults.items()))
                or "none"
            )
            + (
                f" (5xx/429 without Retry-After: {self.missing_retry_after})"
                if self.missing_retry_after
                else ""
            ),
        ]
        if self.extra:
            lines.append("   " + ", ".join(f"{name} {value}" for name, value in self.extra.items()))
        lines.extend(f"   {note}" for note in self.notes)
        return "\n".join(lines)


def _figures(attempts: dict[str, list[Attempt]], replayed: int) -> Figures:
    decisions = [attempt.decision for log in attempts.values() for attempt in log]
    return Figures(
        calls=len(attempts),
        attempts=len(decisions),
        faults=Counter(d.fault.value for d in decisions if d.fault is not Fault.NONE),
        replayed=replayed,
        missing_retry_after=sum(
            1 for d in decisions if d.fault.status is not None and d.retry_after is None
        ),
    )


def _abort(request: web.Request) -> web.Response:
    assert request.transport is not None
    request.transport.abort()
    return web.Response(status=200)  # never reaches the client


class _Loopback:
    """An aiohttp application on a free loopback port."""

    url = ""

    def __init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()

    def _app(self) -> web.Application:
        raise NotImplementedError

    async def start(self) -> None:
        self._runner = web.AppRunner(self._app(), handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _wait_late(self, seconds: float) -> None:
        # The fault itself: a server (or network) slower than the client's timeout. Cut
        # short when the test ends.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)


class FaultServer(_Loopback):
    """A Hive-Socket stand-in that fails attempts as its plan says.

    Like the local server, it processes each idempotency key once: a repeated key gets the
    first answer again. A 5xx/429 or a drop before processing leaves the key unprocessed;
    a drop after processing or a late answer has processed it.

    Attributes:
        processed: How often each logical call was processed (1, unless keys differ).
        receipts: The receipt id each logical call was given when processed.
    """

    def __init__(self, plan: FaultPlan, *, call_field: str = "userId") -> None:
        super().__init__()
        self.plan = plan
        self.call_field = call_field
        self.attempts: dict[str, list[Attempt]] = {}
        self.processed: Counter[str] = Counter()
        self.receipts: dict[str, str] = {}
        self._answers: dict[str, dict[str, Any]] = {}
        self._replayed = 0

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        return app

    def figures(self) -> Figures:
        figures = _figures(self.attempts, self._replayed)
        figures.processed = len(self.processed)
        figures.duplicates = sum(count - 1 for count in self.processed.values())
        return figures

    def keys_by_call(self) -> dict[str, set[str | None]]:
        return {
            call: {attempt.idempotency_key for attempt in log}
            for call, log in self.attempts.items()
        }

    def _process_once(self, call: str, key: str | None) -> dict[str, Any]:
        if key is not None and key in self._answers:
            self._replayed += 1
            return self._answers[key]
        self.processed[call] += 1
        receipt = f"n-{sum(self.processed.values())}"
        self.receipts.setdefault(call, receipt)
        answer = {"ok": True, "id": receipt, "delivered": 1, "persisted": True}
        if key is not None:
            self._answers[key] = answer
        return answer

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        call = call_of(await request.read(), self.call_field)
        key = request.headers.get("idempotency-key")
        log = self.attempts.setdefault(call, [])
        decision = self.plan.decide(call, len(log) + 1)
        log.append(Attempt(decision, key))
        fault = decision.fault
        if fault.status is not None:
            headers = {} if decision.retry_after is None else {"Retry-After": decision.retry_after}
            return web.json_response(
                {"statusCode": fault.status, "message": "injected", "error": fault.value},
                status=fault.status,
                headers=headers,
            )
        if fault is Fault.DROP_BEFORE:
            return _abort(request)
        answer = self._process_once(call, key)
        if fault is Fault.DROP_AFTER:
            return _abort(request)
        if fault is Fault.LATE:
            await self._wait_late(self.plan.late_by)
        return web.json_response(answer, status=201)


class FaultProxy(_Loopback):
    """Forwards HTTP requests to ``upstream``, breaking some on the way as its plan says.

    ``DROP_BEFORE`` never forwards; ``DROP_AFTER`` forwards, waits for the answer, then
    drops the connection; ``LATE`` forwards and answers after the client's timeout;
    ``HELD`` holds the request past the client's timeout, then forwards it (a stale
    duplicate that reaches the server after the client has retried).
    """

    def __init__(self, upstream: str, plan: FaultPlan, *, call_field: str = "userId") -> None:
        super().__init__()
        self.upstream = upstream
        self.plan = plan
        self.call_field = call_field
        self.attempts: dict[str, list[Attempt]] = {}
        self.forwarded = 0
        self.replayed = 0
        self._http: aiohttp.ClientSession | None = None
        self._in_flight = 0
        self._settled = asyncio.Event()
        self._settled.set()

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    async def start(self) -> None:
        self._http = aiohttp.ClientSession(auto_decompress=False)
        await super().start()

    async def stop(self) -> None:
        await super().stop()
        if self._http is not None:
            await self._http.close()

    async def settled(self, timeout: float) -> None:
        """Wait until no forwarded request is on its way to or from the upstream."""
        await asyncio.wait_for(self._settled.wait(), timeout)

    def figures(self) -> Figures:
        figures = _figures(self.attempts, self.replayed)
        figures.extra = {"forwarded to the server": self.forwarded}
        return figures

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        call = call_of(raw, self.call_field)
        log = self.attempts.setdefault(call, [])
        decision = self.plan.decide(call, len(log) + 1)
        log.append(Attempt(decision, request.headers.get("idempotency-key")))
        fault = decision.fault
        if fault is Fault.DROP_BEFORE:
            return _abort(request)
        self._in_flight += 1
        self._settled.clear()
        try:
            if fault is Fault.HELD:
                await self._wait_late(self.plan.late_by)
            status, headers, body = await self._forward(request, raw)
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._settled.set()
        if fault is Fault.DROP_AFTER:
            return _abort(request)
        if fault is Fault.LATE:
            await self._wait_late(self.plan.late_by)
        return web.Response(status=status, headers=headers, body=body)

    async def _forward(self, request: web.Request, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        assert self._http is not None
        sent = {
            name: value
            for name, value in request.headers.items()
            if name.lower() not in ("host", "content-length", "transfer-encoding", "connection")
        }
        async with self._http.request(
            request.method, self.upstream + request.path_qs, headers=sent, data=raw
        ) as answer:
            body = await answer.read()
            self.forwarded += 1
            if answer.headers.get("idempotent-replayed") == "true":
                self.replayed += 1
            kept = {
                name: value
                for name, value in answer.headers.items()
                if name.lower()
                not in ("content-length", "transfer-encoding", "connection", "date", "server")
            }
            return answer.status, kept, body
