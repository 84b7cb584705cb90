#!/usr/bin/env bash
# CLI bad-input checks. Usage: cli_bad_inputs.sh /path/to/trainsim
# For every bad scenario file, `trainsim run FILE --json OUT.json` and `trainsim validate FILE` must:
#   exit with code exactly 2 (not a crash: never >= 128), print exactly one stderr line starting with
#   "trainsim: error:", and (run) not create OUT.json.
set -u

bin=${1:?usage: $0 /path/to/trainsim}
if [ ! -x "$bin" ]; then
  echo "not an executable: $bin" >&2
  exit 2
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
here=$(cd "$(dirname "$0")" && pwd)
default_json="$here/../scenarios/default.json"

work=$(mktemp -d "${TMPDIR:-/tmp}/trainsim_bad_inputs.XXXXXX")
cleanup() {
  chmod -R u+rwx "$work" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work" || exit 2

run_limit=120
if command -v timeout >/dev/null 2>&1; then
  with_timeout=(timeout "$run_limit")
else
  with_timeout=()
fi

passed=0
failed=0

report() { # report NAME REASONS...
  local name=$1
  shift
  if [ $# -eq 0 ]; then
    passed=$((passed + 1))
    echo "PASS $name"
  else
    failed=$((failed + 1))
    echo "FAIL $name: $*"
  fi
}

# check_stderr FILE -> prints a reason when FILE is not exactly one line starting with "trainsim: error:"
check_stderr() {
  local err=$1
  local lines
  lines=$(wc -l <"$err")
  if [ ! -s "$err" ]; then
    echo "stderr is empty;"
    return
  fi
  if [ "$(tail -c 1 "$err" | od -An -tx1 | tr -d ' \n')" != "0a" ]; then
    lines=$((lines + 1)) # a last line without a newline
  fi
  if [ "$lines" -ne 1 ]; then
    echo "stderr has $lines lines, not 1 ($(head -c 300 "$err" | tr '\n' '|'));"
    return
  fi
  if ! head -n 1 "$err" | grep -q '^trainsim: error:'; then
    echo "stderr does not start with 'trainsim: error:' ($(head -c 200 "$err"));"
  fi
}

check_rc() { # check_rc RC
  local rc=$1
  if [ "$rc" -ge 128 ]; then
    echo "crashed (exit $rc, signal $((rc - 128)));"
  elif [ "$rc" -eq 124 ] && [ ${#with_timeout[@]} -gt 0 ]; then
    echo "timed out after ${run_limit}s;"
  elif [ "$rc" -ne 2 ]; then
    echo "exit code $rc, expected 2;"
  fi
}

# bad_file NAME FILE: runs both `run` and `validate` on FILE.
bad_file() {
  local name=$1 file=$2
  local out="$work/out_${name}.json" err="$work/err_${name}_run.txt" rc reasons
  rm -f "$out"
  "${with_timeout[@]}" "$bin" run "$file" --json "$out" >/dev/null 2>"$err"
  rc=$?
  reasons="$(check_rc "$rc")$(check_stderr "$err")"
  if [ -e "$out" ]; then
    reasons="$reasons OUT.json was created;"
  fi
  if ls -a "$work" | grep -q "^\.out_${name}\.json\.tmp"; then
    reasons="$reasons a temporary report file was left behind;"
  fi
  # shellcheck disable=SC2086
  report "$name/run" $reasons

  err="$work/err_${name}_validate.txt"
  "${with_timeout[@]}" "$bin" validate "$file" >/dev/null 2>"$err"
  rc=$?
  reasons="$(check_rc "$rc")$(check_stderr "$err")"
  # shellcheck disable=SC2086
  report "$name/validate" $reasons
}

# ---------------------------------------------------------------- files

printf '{"schema_version": 1, "name": "x",}\n' >trailing_comma.json
bad_file trailing_comma trailing_comma.json

if [ -f "$default_json" ]; then
  head -c 200 "$default_json" >truncated.json
else
  printf '{\n  "schema_version": 1,\n  "name": "llama3-70b",\n  "cluster": {\n    "accelerator": "H800-SXM-80GB",\n    "nod' >truncated.json
fi
bad_file truncated truncated.json

: >empty.json
bad_file empty empty.json

mkdir a_directory.json
bad_file directory a_directory.json

bad_file missing_file does_not_exist.json

if [ "$(id -u)" -eq 0 ]; then
  echo "SKIP unreadable: running as root, permissions are not enforced"
else
  printf '{}' >unreadable.json
  chmod 000 unreadable.json
  bad_file unreadable unreadable.json
fi

head -c 100000 /dev/zero | tr '\0' '[' >nested_arrays.json
head -c 100000 /dev/zero | tr '\0' ']' >>nested_arrays.json
bad_file nested_arrays_100000 nested_arrays.json

# The same depth as the value of a key the parser reads (so the error message has to render it).
printf '{"schema_version": ' >nested_value.json
head -c 100000 /dev/zero | tr '\0' '[' >>nested_value.json
head -c 100000 /dev/zero | tr '\0' ']' >>nested_value.json
printf '}\n' >>nested_value.json
bad_file nested_array_value_100000 nested_value.json

: >nested_objects.json
for _ in $(seq 100); do printf '{"a":' >>nested_objects.json; done
head -c 99900 /dev/zero | tr '\0' '[' >>nested_objects.json
echo 1 >>nested_objects.json
head -c 99900 /dev/zero | tr '\0' ']' >>nested_objects.json
for _ in $(seq 100); do printf '}' >>nested_objects.json; done
bad_file nested_mixed_100000 nested_objects.json

printf '\x7fELF\x02\x01\x01\x00\x00\x00\xff\xfe\xfd\n\r\x1b[31m\x80\x81{"a":\x00\x01\x02garbage\xc3\x28\n' >garbage.json
for _ in $(seq 64); do printf '\xde\xad\xbe\xef\x00\n\t' >>garbage.json; done
bad_file binary_garbage garbage.json

printf '\xef\xbb\xbf' >bom_then_garbage.json
printf '\xff\xff\xff' >>bom_then_garbage.json
bad_file bom_then_garbage bom_then_garbage.json

printf '[1, 2, 3]\n' >not_an_object.json
bad_file not_an_object not_an_object.json

if [ -f "$default_json" ]; then
  # Valid JSON, invalid scenario: tp = 3 does not divide 64 heads (and tp*pp*dp != 512).
  sed 's/"tp": 8/"tp": 3/' "$default_json" >bad_tp.json
  bad_file semantic_tp bad_tp.json
  # Valid scenario that does not fit in memory.
  sed -e 's/"nodes": 64/"nodes": 1/' -e 's/"llama3-70b"}/"llama3-405b"}/' \
    -e 's/"parallelism": {[^}]*}/"parallelism": {"tp": 1, "pp": 1, "dp": 8, "vpp": 1, "sequence_parallel": false, "zero_stage": 1}/' \
    "$default_json" >oom.json
  bad_file out_of_memory oom.json
  # Energy options (docs/energy-carbon.md): a power cap below idle, a missing intensity profile,
  # an impossible start date, a negative hot-spare count.
  sed 's/"simulation": {/"power": {"cap": "50W"}, "simulation": {/' "$default_json" >cap_below_idle.json
  bad_file power_cap_below_idle cap_below_idle.json
  sed 's/"grid": "cn-national-2023"}/"grid": "cn-national-2023", "intensity_profile": "missing.csv", "start_date": "2025-01-01"}/' \
    "$default_json" >missing_profile.json
  bad_file missing_intensity_profile missing_profile.json
  sed 's/"grid": "cn-national-2023"}/"grid": "cn-national-2023", "start_date": "2025-02-30"}/' "$default_json" >bad_date.json
  bad_file bad_start_date bad_date.json
  sed 's/"simulation": {/"failures": {"hot_spare_nodes": -1}, "simulation": {/' "$default_json" >neg_spares.json
  bad_file negative_hot_spares neg_spares.json
  # Collective algorithms: an unknown name lists the valid ones; in-network reduction the fabric does not
  # declare names the key that would declare it; all-to-all algorithms cannot reduce gradients.
  expect_message() { # expect_message NAME TEXT
    if grep -qF -- "$2" "$work/err_$1_run.txt" && grep -qF -- "$2" "$work/err_$1_validate.txt"; then
      report "$1/message"
    else
      report "$1/message" "stderr does not mention '$2';"
    fi
  }
  sed 's/"zero_stage": 1}/"zero_stage": 1, "collectives": {"dp": "butterfly"}}/' "$default_json" >unknown_collective.json
  bad_file unknown_collective unknown_collective.json
  expect_message unknown_collective "valid: auto, direct, halving_doubling, hierarchical, in_network, pairwise, ring, tree"
  sed 's/"zero_stage": 1}/"zero_stage": 1, "collectives": {"dp": "in_network"}}/' "$default_json" >undeclared_sharp.json
  bad_file undeclared_sharp undeclared_sharp.json
  expect_message undeclared_sharp "/cluster/fabric/in_network_reduction"
  sed 's/"zero_stage": 1}/"zero_stage": 1, "collectives": {"dp": "pairwise"}}/' "$default_json" >a2a_for_dp.json
  bad_file a2a_for_dp a2a_for_dp.json
  expect_message a2a_for_dp "/parallelism/collectives/dp"
fi

# footprint: missing inputs and an unknown grid are usage errors (exit 2).
for args in "--power 400W" "--accelerator-hours 10 --power 400W --grid nowhere" "--accelerator-hours 10 --power fast"; do
  # shellcheck disable=SC2086
  "${with_timeout[@]}" "$bin" footprint $args >/dev/null 2>"$work/err_fp.txt"
  rc=$?
  reasons="$(check_rc "$rc")$(check_stderr "$work/err_fp.txt")"
  # shellcheck disable=SC2086
  report "footprint/${args// /_}" $reasons
done

# ---------------------------------------------------------------- command line

"${with_timeout[@]}" "$bin" run --no-such-flag >/dev/null 2>"$work/err_flag.txt"
rc=$?
if [ "$rc" -eq 2 ]; then
  report "unknown_flag/run"
else
  report "unknown_flag/run" "exit code $rc, expected 2"
fi

# ---------------------------------------------------------------- report commands (docs/reports.md)

cli_case() { # cli_case NAME ARGS...: exit 2, one "trainsim: error:" line
  local name=$1; shift
  "${with_timeout[@]}" "$bin" "$@" >/dev/null 2>"$work/err_$name.txt"
  local rc=$?
  if [ "$rc" -ne 2 ]; then
    report "$name" "exit code $rc, expected 2"
  elif [ "$(wc -l < "$work/err_$name.txt")" -ne 1 ] || ! grep -q '^trainsim: error:' "$work/err_$name.txt"; then
    report "$name" "stderr: $(head -c 300 "$work/err_$name.txt")"
  else
    report "$name"
  fi
}
cli_case list_unknown_category list gpus
cli_case html_sweep_missing_file html-sweep "$work/no-such.jsonl" --x a --y b -o "$work/s.html"
printf '{"a": 1}\n{not json\n' > "$work/broken.jsonl"
cli_case html_sweep_malformed html-sweep "$work/broken.jsonl" --x a --y a -o "$work/s.html"
printf '{"a": 1, "b": 2}\n' > "$work/ok.jsonl"
cli_case html_sweep_unknown_field html-sweep "$work/ok.jsonl" --x a --y c -o "$work/s.html"
cli_case html_sweep_bad_direction html-sweep "$work/ok.jsonl" --x a --y b --x-better up -o "$work/s.html"
cli_case trace_unwritable run "$default_json" -q --trace "$work/no-such-dir/t.json"
[ -e "$work/s.html" ] && report "html_sweep_no_output_on_error" "an HTML file was written" || report "html_sweep_no_output_on_error"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
