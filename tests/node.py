"""Node packages driven from pytest (the TypeScript SDK, the generated contract client, the Node
examples): `npm ci` from the committed lockfile when node_modules is missing, then npm scripts."""

import os
import shutil
import subprocess
from pathlib import Path

__all__ = ["npm", "npm_installed"]


def npm(folder: Path, *args: str, timeout: float = 600, **env: str) -> subprocess.CompletedProcess:
    npm_path = shutil.which("npm")
    assert npm_path, "npm is not installed (Node 20 and npm come from Debian's packages)"
    result = subprocess.run([npm_path, *args], cwd=folder, capture_output=True, text=True, timeout=timeout,
                            env={**os.environ, **env})
    assert result.returncode == 0, f"npm {' '.join(args)} in {folder}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


def npm_installed(folder: Path) -> None:
    """node_modules as the lockfile says; installed once per checkout (npm ci wipes and reinstalls)."""
    if not (folder / "node_modules" / ".package-lock.json").exists():
        npm(folder, "ci", "--no-audit", "--no-fund")
