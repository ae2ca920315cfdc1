"""Cache traffic of one request, in one round trip.

Authentication learns the tenant and the principal first, and with them the keys that it and the
layers after it read — the token blacklist, the principal's cached row and its versions, the
permission entry with its version counters, the tenant's limits — and the rate-limit counter the
throttle increments. One by one they were four round trips (before the row was cached too), a third
of a cheap request; on Redis they go out as one pipeline here, and the results travel with the
principal. Keys not read up front fall through to the cache.

The pipeline is written to Redis at construction and its answers read by `receive` (reading
`counts` or any entry receives too). Until then the Redis connection stays out of the pool with
answers waiting on it, so a sender that may fail before reading receives in a `finally`.

When Redis cannot be reached the reads find nothing and count nothing (core/cache/faults.py): the
layers after authentication read the database, and the throttle counts on its own.
"""

import redis
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

from core.cache.faults import UNREACHABLE
from core.cache.redis import HubRedisCache
from core.ratelimit import increment, increment_commands

__all__ = ["CacheReads"]


class _InFlight:
    """A pipeline written to a pooled Redis connection whose answers are not read yet."""

    def __init__(self, client: redis.Redis, commands: list[tuple]):
        self._pool = client.connection_pool
        self._connection = self._pool.get_connection()
        try:
            self._connection.send_packed_command(self._connection.pack_commands(commands))
        except BaseException:
            self._pool.release(self._connection)  # send_packed_command disconnected it
            raise
        self._count = len(commands)

    def answers(self) -> list:
        try:
            return [self._connection.read_response() for _ in range(self._count)]
        finally:
            # A failed read disconnected the connection: the pool reconnects it on its next use.
            self._pool.release(self._connection)


class CacheReads:
    """Answers `get` and `get_many` like the cache, from reads made up front; `counts` holds the
    counters (from core.ratelimit.counter_key) incremented on the way, by key."""

    def __init__(self, keys, *, counters: dict[str, int] | None = None):
        """`counters` maps counter keys to their window in seconds. On Redis the reads are sent
        here and read by `receive`; on the database cache they are made here."""
        self._read = frozenset(keys)
        self._keys = list(self._read)
        self._counters = counters or {}
        self._in_flight = None
        if isinstance(caches["default"], HubRedisCache):
            self._in_flight = self._send(caches["default"])
        else:
            self._found = cache.get_many(self._keys)
            self._counts = {key: increment(key, seconds) for key, seconds in self._counters.items()}

    def _commands(self, redis_cache: RedisCache) -> list[tuple]:
        commands = [("MGET", *(redis_cache.make_and_validate_key(key) for key in self._keys))]
        for key, seconds in self._counters.items():
            commands += increment_commands(redis_cache.make_and_validate_key(key), seconds)
        return commands

    def _send(self, redis_cache: RedisCache) -> _InFlight | None:
        """None when the send failed or Redis is left alone for now: `receive` then retries as a
        plain pipeline, or finds nothing."""
        if not redis_cache.health.reachable():
            return None
        try:
            return _InFlight(redis_cache._cache.get_client(write=True), self._commands(redis_cache))
        except redis.TimeoutError as error:
            redis_cache.health.unreachable("reads", error)  # not a stale connection: no resend
        except redis.ConnectionError:
            pass
        return None

    def receive(self) -> None:
        """Read the answers of the reads sent at construction (once; later calls do nothing)."""
        if hasattr(self, "_found"):
            return
        redis_cache = caches["default"]
        in_flight, self._in_flight = self._in_flight, None
        try:
            answers = in_flight.answers() if in_flight is not None else None
        except redis.TimeoutError as error:
            redis_cache.health.unreachable("reads", error)
            answers = None
        except redis.ConnectionError:
            answers = None
        if answers is None:
            answers = self._resend(redis_cache)
        values, *increments = answers
        loads = redis_cache._cache._serializer.loads
        self._found = {key: loads(value) for key, value in zip(self._keys, values) if value is not None}
        self._counts = dict(zip(self._counters, increments[::2]))

    def _resend(self, redis_cache: RedisCache) -> list:
        """Sent again, once (a pooled connection may have died with an earlier Redis); the answers
        of an empty cache that counts nothing if Redis is still out of reach."""
        health = redis_cache.health
        if health.reachable():
            pipeline = redis_cache._cache.get_client(write=True).pipeline(transaction=False)
            for command in self._commands(redis_cache):
                pipeline.execute_command(*command)
            try:
                return pipeline.execute()
            except UNREACHABLE as error:
                health.unreachable("reads", error)
        else:
            health.unreachable("reads")
        return [[None] * len(self._keys)]

    @property
    def counts(self) -> dict[str, int]:
        self.receive()
        return self._counts

    def get_many(self, keys) -> dict:
        self.receive()
        found = {key: self._found[key] for key in keys if key in self._found}
        unread = [key for key in keys if key not in self._read]
        if unread:
            found.update(cache.get_many(unread))
        return found

    def get(self, key, default=None):
        return self.get_many([key]).get(key, default)
