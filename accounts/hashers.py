import threading

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher, BCryptPasswordHasher


class BoundedArgon2idHasher(Argon2PasswordHasher):
    """Argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane) instead of Django's
    100 MiB default, and at most ARGON2_MAX_CONCURRENT hashes at a time per process.

    Same "argon2" algorithm name as Django's hasher, so existing hashes keep verifying and
    are re-hashed with these parameters on the next login (must_update).
    """

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
    _slots = threading.BoundedSemaphore(settings.ARGON2_MAX_CONCURRENT)

    def encode(self, password, salt):
        with self._slots:
            return super().encode(password, salt)

    def verify(self, password, encoded):
        with self._slots:
            return super().verify(password, encoded)


class LegacyBcryptPasswordHasher(BCryptPasswordHasher):
    """The bcrypt hashes imported from the Express app ("bcrypt$$2a$..."), verified as bcryptjs
    made them: from the first 72 bytes of the password, which bcryptjs used silently and the
    bcrypt library now refuses to cut for us. Verified once, then upgraded to Argon2id."""

    def encode(self, password, salt):
        data = self._load_library().hashpw(password.encode()[:72], salt)  # type: ignore[attr-defined]
        return f"{self.algorithm}${data.decode('ascii')}"
