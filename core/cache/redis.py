"""The Redis cache backend every request goes through: Django's, minus two per-call costs.

Django's RedisCacheClient builds a new `redis.Redis` client object for every call (about 110 µs
each on the bench machine, several times a Redis round trip) and checks every key for memcached
compatibility. A request reads the cache three to four times, so both add up. Here each process
keeps one client per connection pool (redis-py clients are thread-safe and the pool reconnects
after a fork), and keys are only prefixed: they never reach memcached.
"""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

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

    def make_and_validate_key(self, key, version=None):
        return self.make_key(key, version=version)
