"""Upload a released checkpoint directory to the Hugging Face Hub (or a compatible server).

Real ``huggingface_hub`` calls: ``HfApi.create_repo`` then ``upload_folder``. ``HF_ENDPOINT``
points it at another server (read at call time, so it works even after huggingface_hub was
imported); ``HF_TOKEN`` or ``--hub-token`` authenticates.
"""

from __future__ import annotations

import os
from pathlib import Path

from codekiln_core.errors import ConfigError
from codekiln_core.lineage.refs import MARKER_NAME

#: Local bookkeeping that never goes to the hub.
IGNORE = [MARKER_NAME, "*.tmp-*", "*.old-*"]


def push_to_hub(folder: Path, repo_id: str, *, token: str | None = None,
                private: bool = False, commit_message: str | None = None,
                endpoint: str | None = None) -> str:
    """Create ``repo_id`` if needed and upload ``folder`` as one commit; returns its URL."""
    import httpx
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    if "/" not in repo_id or repo_id.count("/") != 1:
        raise ConfigError(f"--push-to-hub {repo_id!r}: expected OWNER/NAME")
    api = HfApi(endpoint=endpoint or os.environ.get("HF_ENDPOINT") or None,
                token=token or os.environ.get("HF_TOKEN") or None)
    try:
        api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
        info = api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="model",
                                 commit_message=commit_message or f"codekiln release of "
                                                                  f"{folder.name}",
                                 ignore_patterns=IGNORE)
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "no response"
        raise ConfigError(f"--push-to-hub {repo_id}: the hub at {api.endpoint} answered "
                          f"{status}; check HF_TOKEN and HF_ENDPOINT") from exc
    except (httpx.HTTPError, OSError) as exc:
        raise ConfigError(f"--push-to-hub {repo_id}: cannot reach the hub at {api.endpoint} "
                          f"({type(exc).__name__}); check the network or HF_ENDPOINT") from exc
    return str(info.commit_url)
