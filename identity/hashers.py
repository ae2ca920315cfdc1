"""The password hasher: Argon2id (spec §6) with OWASP's first listed parameters, not Django's.

Django's defaults (100 MiB, 8 lanes) raise a web worker's peak RSS by about 100 MiB on every
login it serves. OWASP's Password Storage Cheat Sheet lists m=19 MiB, t=2, p=1 as a configuration
of equal defence; the choice and its trade-off are in docs/decisions.md. The algorithm name stays
`argon2`, so hashes written under other parameters still verify, and `must_update` rehashes them
at the next successful login.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher

__all__ = ["HubArgon2PasswordHasher"]


class HubArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
