{
# codekiln judge harness for bash (see codekiln_core/judge/bash.py). The whole file is one
# compound command: bash reads all of it before running any, so nothing can rewrite it later.
# The answer never runs in this shell. Each of its functions is a proxy here that runs a fresh
# bash, which sources the answer (its top-level output discarded) and calls the function:
# the answer's `exit 0`, `set +e`, traps, aliases or redefined builtins stay in that child.
# The tests run here, in a subshell under `set -e` (any failing check fails the program);
# the per-run nonce, read and deleted before anything else, is printed only after them.
__judge_nonce=$(< .judge-nonce)
rm -f .judge-nonce
__judge_tests=$(< .judge-tests.sh)
rm -f .judge-tests.sh
__judge_bash=$BASH
__judge_call() {
    "$__judge_bash" -c '. ./.judge-answer.sh </dev/null >/dev/null 2>&1; "$@"' judge "$@"
}
for __judge_name in @FUNCTIONS@; do
    eval "$__judge_name() { __judge_call $__judge_name \"\$@\"; }"
done
unset __judge_name
set -e
( eval "$__judge_tests" )
printf '%s\n' "$__judge_nonce"
exit 0
}
