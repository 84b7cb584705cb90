#!/usr/bin/env bash
# The bad-input catalogue. Usage: bad_inputs.sh /path/to/trainsim
# Every case must: exit with code exactly 2 (never a crash >= 128, never the 124 of a timeout), print exactly
# one stderr line that starts with "trainsim: error:" and contains the case's expected fragment, and leave
# no output file behind: `run CASE --json out.json --csv out.csv` creates neither file nor a temporary one.
# Cases: tests/bad_inputs/NN-name.json with their fragments in tests/bad_inputs/expected.tsv, then the
# generated cases below (directories, unreadable and special files, deep nesting, command-line values).
set -u

bin=${1:?usage: $0 /path/to/trainsim}
[ -x "$bin" ] || { echo "not an executable: $bin" >&2; exit 2; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
here=$(cd "$(dirname "$0")" && pwd)
cases="$here/bad_inputs"
limit=${TRAINSIM_BAD_INPUT_TIMEOUT:-60}

work=$(mktemp -d "${TMPDIR:-/tmp}/trainsim_bad_catalogue.XXXXXX")
cleanup() { chmod -R u+rwx "$work" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cd "$work" || exit 2
mkdir out

passed=0 failed=0 skipped=0
pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1: $2"; }
skip() { skipped=$((skipped + 1)); echo "SKIP $1: $2"; }

# judge NAME FRAGMENT RC STDERR_FILE [EXPECTED_RC, default 2] -> reasons on stdout (empty when it passes)
judge() {
  local frag=$2 rc=$3 err=$4 want=${5:-2} lines
  # Under the sanitizer pass only (ASAN_OPTIONS set by tools/sanitize.env): ASan's own three-line warning about
  # SimGrid's context switches (docs/reliability.md, "SimGrid and ASan") is not trainsim's output; drop
  # exactly those lines. The Release pass judges stderr as it is.
  if [ -n "${ASAN_OPTIONS:-}" ]; then
    grep -a -v -e '^==[0-9]*==WARNING: ASan is ignoring requested __asan_handle_no_return' \
      -e '^False positive error reports may follow$' -e '^For details see https://github.com/google/sanitizers/issues/189$' \
      "$err" >"$err.asan" || true
    mv "$err.asan" "$err"
  fi
  if [ "$rc" -eq 124 ]; then echo "timed out after ${limit}s;"; return; fi
  if [ "$rc" -ge 128 ]; then echo "crashed (signal $((rc - 128)));"; fi
  [ "$rc" -ne "$want" ] && [ "$rc" -lt 128 ] && echo "exit code $rc, expected $want;"
  lines=$(awk 'END { print NR }' "$err")
  [ "$lines" -ne 1 ] && echo "stderr has $lines lines, not 1 ($(head -c 300 "$err" | tr '\n' '|'));"
  head -n 1 "$err" | grep -q '^trainsim: error:' || echo "stderr does not start with 'trainsim: error:';"
  grep -qF -- "$frag" "$err" || echo "stderr lacks \"$frag\" (got: $(head -c 400 "$err"));"
}

# check NAME FRAGMENT ARGS... : runs `trainsim ARGS...`; for `run` adds --json/--csv and checks no file is left.
check() {
  local name=$1 frag=$2
  shift 2
  local err="$work/err.txt" rc reasons extra=()
  rm -rf out && mkdir out
  [ "$1" = run ] && extra=(--json out/report.json --csv out/report.csv)
  timeout "$limit" "${runner[@]}" "$bin" "$@" "${extra[@]}" >/dev/null 2>"$err" </dev/null
  rc=$?
  reasons=$(judge "$name" "$frag" "$rc" "$err")
  if [ -n "$(ls -A out)" ]; then reasons="$reasons output left behind: $(ls -A out | tr '\n' ' ');"; fi
  if [ -z "$reasons" ]; then pass "$name"; else fail "$name" "$reasons"; fi
}
runner=()

# ---------------------------------------------------------------- the catalogue files
n=0
while IFS=$'\t' read -r file code frag; do
  case "$file" in '#'* | '') continue ;; esac
  n=$((n + 1))
  if [ "$code" != 2 ]; then fail "$file" "expected.tsv must say exit code 2, says $code"; continue; fi
  [ -f "$cases/$file" ] || { fail "$file" "missing from $cases"; continue; }
  check "$file/run" "$frag" run "$cases/$file"
  check "$file/validate" "$frag" validate "$cases/$file"
done <"$cases/expected.tsv"
# Every file in the folder is in the table (a case cannot be dropped silently).
for f in "$cases"/*.json; do
  grep -q "^$(basename "$f")	" "$cases/expected.tsv" || fail "$(basename "$f")" "not listed in expected.tsv"
done

# ---------------------------------------------------------------- generated cases
mkdir a_directory.json
check "gen-directory/run" "is a directory" run a_directory.json
check "gen-missing-file" "no such file" validate does_not_exist.json
mkfifo a_fifo.json
check "gen-fifo-without-writer" "not a regular file" run a_fifo.json
check "gen-char-device" "not a regular file" validate /dev/zero
ln -s loop.json loop.json
check "gen-symlink-loop" "loop.json: too many levels of symbolic links" validate loop.json
truncate -s 80M huge.json
check "gen-80MB-file" "larger than" validate huge.json
head -c 200000 /dev/zero | tr '\0' '[' >deep.json
# The strict loader stops at 200 levels, before it reaches the truncation (JsonReader.hpp, max_json_depth).
check "gen-200000-nested-arrays" "nested deeper than 200 levels" run deep.json
{ printf '{"schema_version": 1, "name": "deep", "cluster": '
  for _ in $(seq 20000); do printf '{"a":'; done; printf '1'; for _ in $(seq 20000); do printf '}'; done
  printf '}\n'; } >deep_objects.json
check "gen-20000-nested-objects-as-value" "/cluster" run deep_objects.json

# Unreadable: root reads any file, so as root the case runs the CLI as the unprivileged user nobody
# (setpriv); where that is not possible it is skipped, saying why.
printf '{}' >unreadable.json
chmod 000 unreadable.json
if [ "$(id -u)" -ne 0 ]; then
  check "gen-unreadable-file" "cannot read" validate unreadable.json
elif command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$bin" &&
  setpriv --reuid=65534 --regid=65534 --clear-groups test -r "$here/../platforms/accelerators.json"; then
  chmod 755 "$work" out
  runner=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  check "gen-unreadable-file-as-nobody" "cannot read (Permission denied)" validate unreadable.json
  runner=()
  chmod 700 "$work"
else
  skip "gen-unreadable-file" "running as root and cannot run as nobody (setpriv missing or the build is not readable by nobody); root reads any file"
fi

# Output paths and command-line values (the scenario itself is valid and small).
cat >small.json <<'JSON'
{"schema_version": 1, "name": "small",
 "cluster": {"accelerator": "A100-SXM-80GB", "nodes": 1, "accelerators_per_node": 2,
             "fabric": {"type": "fat_tree", "nic_bandwidth": "100Gbps", "tiers": 1}},
 "model": {"preset": "gpt3-1.7b"},
 "training": {"global_batch_size": 4, "tokens": "1B", "recompute": "full"},
 "parallelism": {"tp": 1, "pp": 1, "dp": 2}}
JSON
check "gen-max-memory-garbage" "--max-memory" run small.json --max-memory lots
check "gen-max-time-zero" "--max-time 0s: must be positive" run small.json --max-time 0s
check "gen-max-time-below-estimate" "over the time limit" validate small.json --max-time 1ns
rm -rf out && mkdir out
timeout "$limit" "$bin" run small.json --json out/no_such_dir/report.json >/dev/null 2>err.txt </dev/null
r=$(judge gen-json-into-missing-directory "does not exist" $? err.txt)
[ -n "$(ls -A out)" ] && r="$r output left behind;"
if [ -z "$r" ]; then pass gen-json-into-missing-directory; else fail gen-json-into-missing-directory "$r"; fi
mkdir -p out/report_dir.json
timeout "$limit" "$bin" run small.json --json out/report_dir.json >/dev/null 2>err.txt </dev/null
r=$(judge gen-json-onto-directory "it is a directory" $? err.txt)
[ "$(ls -A out)" != report_dir.json ] && r="$r output left behind: $(ls -A out | tr '\n' ' ');"
[ -n "$(ls -A out/report_dir.json)" ] && r="$r wrote into the directory;"
if [ -z "$r" ]; then pass gen-json-onto-directory; else fail gen-json-onto-directory "$r"; fi

# ---------------------------------------------------------------- every other command and input file kind
# tests/bad_inputs/commands/*.tsv: name<TAB>exit code<TAB>fragment<TAB>arguments (a shell word list, expanded
# with $CASES = tests/bad_inputs/commands/files and $SCEN = scenarios/, run from the work directory with an
# empty out/). The first stderr line must start with "trainsim: error:" and contain the fragment; exactly one
# line; exit code exactly as given; nothing left in out/. Each topic keeps its own file.
CASES="$cases/commands/files"
SCEN="$here/../scenarios"
export CASES SCEN
m=0
for table in "$cases"/commands/*.tsv; do
  [ -f "$table" ] || continue
  while IFS=$'\t' read -r cname code frag argv; do
    case "$cname" in '#'* | '') continue ;; esac
    m=$((m + 1))
    rm -rf out && mkdir out
    eval "args=($argv)"
    timeout "$limit" "$bin" "${args[@]}" >/dev/null 2>"$work/err.txt" </dev/null
    rc=$?
    r=$(judge "$cname" "$frag" "$rc" "$work/err.txt" "$code")
    [ -n "$(ls -A out)" ] && r="$r output left behind: $(ls -A out | tr '\n' ' ');"
    if [ -z "$r" ]; then pass "$(basename "$table" .tsv)/$cname"; else fail "$(basename "$table" .tsv)/$cname" "$r"; fi
  done <"$table"
done
echo "command catalogue: $m cases (tests/bad_inputs/commands/*.tsv)"

echo "catalogue: $n table cases, each as run and validate"
[ "$n" -ge 40 ] || fail catalogue-size "only $n cases in expected.tsv, at least 40 required"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
