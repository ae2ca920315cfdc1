"""The Redis cache backend every request goes through: Django's, minus two per-call costs, and a
cache that is out of reach served as an empty one (core/cache/faults.py).

Django's RedisCacheClient builds a new `redis.Redis` client object for every call (about 110 µs
each on the bench machine, several times a Redis round trip) and checks every key for memcached
compatibility. A request reads the cache three to four times, so both add up. Here each process
keeps one client per connection pool (redis-py clients are thread-safe and the pool reconnects
after a fork), and keys are only prefixed: they never reach memcached.
"""

import functools

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

from core.cache.faults import UNREACHABLE, CacheHealth

__all__ = ["HubRedisCache"]


class _ReusedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class HubRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ReusedClientRedisCacheClient
        self.health = CacheHealth()

    def make_and_validate_key(self, key, version=None):
        return self.make_key(key, version=version)


def _served_without_redis(method, empty):
    """`method`, answering `empty(*args, **kwargs)` (what an empty cache would) when Redis is out of reach."""

    @functools.wraps(method)
    def call(self, *args, **kwargs):
        if not self.health.reachable():
            self.health.unreachable(method.__name__)
            return empty(*args, **kwargs)
        try:
            return method(self, *args, **kwargs)
        except UNREACHABLE as error:
            self.health.unreachable(method.__name__, error)
            return empty(*args, **kwargs)

    return call


# Every call of Django's cache API but incr/decr (a count cannot be made up) and clear (an operator's).
for _name, _empty in {
    "get": lambda key, default=None, version=None: default,
    "get_many": lambda keys, version=None: {},
    "has_key": lambda key, version=None: False,
    "add": lambda *args, **kwargs: False,
    "set": lambda *args, **kwargs: None,
    "touch": lambda *args, **kwargs: False,
    "delete": lambda *args, **kwargs: False,
    "set_many": lambda data, *args, **kwargs: list(data),
    "delete_many": lambda *args, **kwargs: None,
}.items():
    setattr(HubRedisCache, _name, _served_without_redis(getattr(RedisCache, _name), _empty))
