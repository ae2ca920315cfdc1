import httpx

__all__ = ["Transport"]

USER_AGENT = "aza8-hub-python/0.1"


class Transport:
    """The product credential's calls to the hub: one pooled httpx client, thread-safe, each tenant-scoped
    call naming its tenant in X-Tenant-Id."""

    def __init__(self, base_url: str, credential: str, *, timeout: float, client: httpx.Client | None = None):
        self.client = client or httpx.Client(base_url=base_url, timeout=timeout)
        self.client.headers.update({"Authorization": f"Bearer {credential}", "User-Agent": USER_AGENT})

    def get(self, path: str, *, tenant_id: str | None = None, params=None) -> httpx.Response:
        return self.client.get(path, params=params, headers=self._tenant(tenant_id))

    def post(self, path: str, body, *, tenant_id: str | None = None) -> httpx.Response:
        return self.client.post(path, json=body, headers=self._tenant(tenant_id))

    @staticmethod
    def _tenant(tenant_id: str | None) -> dict:
        return {"X-Tenant-Id": tenant_id} if tenant_id else {}

    def close(self) -> None:
        self.client.close()
