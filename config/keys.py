"""The local encryption key file (used by config/settings/local.py); no Django imports."""

import os
from pathlib import Path

from cryptography.fernet import Fernet


def local_encryption_keys(path: Path) -> list[str]:
    """Read the git-ignored key file, creating it (mode 0600) with a fresh key on first use.

    A key generated per process would make yesterday's tokens unreadable today, so the key
    is written once and reused; it never enters the repository (.gitignore).
    """
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as key_file:
            key_file.write(Fernet.generate_key().decode() + "\n")
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]
