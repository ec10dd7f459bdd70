"""Per-process entry of launched runs: ``python -m codekiln_train.launch [--env N=V]...
COMMAND...``.

DeepSpeed's launcher (``launcher: deepspeed``) runs this module in every process with
RANK/LOCAL_RANK/WORLD_SIZE/MASTER_* set; the rest of its command line is the same
``codekiln`` command with ``launcher: none``, so one code path trains at every scale.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from codekiln_core.cli.app import main as codekiln_main
    from codekiln_train.engine.launcher import apply_env_args

    # Leading --env NAME=VALUE words: the launching shell's variables DeepSpeed's multi-node
    # runner does not carry to other hosts (the pipeline's parent run, the step name).
    args = apply_env_args(sys.argv[1:] if argv is None else argv)
    return codekiln_main(args)


if __name__ == "__main__":
    sys.exit(main())
