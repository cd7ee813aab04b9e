# env and exec on installed stacks: eval'ed activation in bash and sh (and
# tcsh/fish when present), csh/fish output against a golden file, JSON that
# parses, layering, exec resolving stacks from node records only (the archive
# is gone by then), and a clear error for a stack that is not installed.
source "$(dirname "$0")/lib.bash"
mkdir -p "$T/tgt/mypkg" "$T/tgt/bin" "$T/tools/bin"
echo 'WHO = "target stack"' >"$T/tgt/mypkg/__init__.py"
printf '#!/bin/sh\necho tool-from-target\n' >"$T/tgt/bin/mytool"; chmod 755 "$T/tgt/bin/mytool"
printf '#!/bin/sh\necho tool-from-tools\n' >"$T/tools/bin/mytool"; chmod 755 "$T/tools/bin/mytool"
"$S" pack "$T/tgt" -o "$T/tgt.tar.lz4" --name tgt --set 'TGT_HOME={prefix}'
"$S" pack "$T/tools" -o "$T/tools.tar.lz4" --name tools --ld-library-path lib
"$S" info --json "$T/tgt.tar.lz4" | python3 -c '
import json, sys
a = json.load(sys.stdin)["activation"]
assert a["kind"] == "target" and a["pythonpath"] == ["."] and a["path"] == ["bin"], a
assert a["set"] == {"TGT_HOME": "{prefix}"}, a'
tgt=$("$S" unpack "$T/tgt.tar.lz4")
tools=$("$S" unpack "$T/tools.tar.lz4")
rm "$T/tgt.tar.lz4"   # exec and env must not need the archive any more

# bash and sh
out=$(bash -c 'unset PYTHONPATH; eval "$("$0" env tgt)"; mytool; python3 -c "import mypkg; print(mypkg.__file__)"; echo "$PYTHONNOUSERSITE $TGT_HOME"' "$S")
[[ $out == $'tool-from-target\n'"$tgt/mypkg/__init__.py"$'\n'"1 $tgt" ]] || fail "bash activation: $out"
out=$(sh -c 'PYTHONPATH=/old; export PYTHONPATH; eval "$("$0" env "$1")"; echo "$PYTHONPATH"' "$S" "$T/tgt.tar.lz4")
[[ $out == "$tgt:/old" ]] || fail "sh activation by archive path: $out"

# layering: the first stack wins
out=$("$S" exec tools tgt -- mytool)
[[ $out == tool-from-tools ]] || fail "layering: $out"
out=$("$S" exec tgt tools -- sh -c 'mytool; echo "$LD_LIBRARY_PATH"')
[[ $out == $'tool-from-target\n'"$tools/lib"* ]] || fail "layering, other order: $out"

# exec: the program is found in the new PATH, arguments pass through untouched
out=$("$S" exec tgt -- python3 -c 'import sys, mypkg; print(mypkg.WHO, sys.argv[1:])' 'a b' "c'd")
[[ $out == "target stack ['a b', \"c'd\"]" ]] || fail "exec: $out"

# json parses and gives the resulting values
PYTHONPATH=/old "$S" env tgt --shell json | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["values"]["PYTHONPATH"].endswith(":/old"), j
assert j["set"]["PYTHONNOUSERSITE"] == "1", j'

# csh and fish: golden output (paths shown as $STACK), and real shells if installed
{ "$S" env tgt --shell csh; "$S" env tgt --shell fish; } | sed "s|$tgt|\$STACK|g" >"$T/shells.txt"
if [[ ${UPDATE_GOLDEN:-} == 1 ]]; then cp "$T/shells.txt" "$E2E_DIR/golden/env-csh-fish.txt"; fi
diff -u "$E2E_DIR/golden/env-csh-fish.txt" "$T/shells.txt" || fail "csh/fish output differs from the golden file"
if command -v tcsh >/dev/null; then
  out=$(tcsh -fc "unsetenv PYTHONPATH; eval \"\`'$S' env tgt --shell csh\`\"; mytool; echo \$PYTHONPATH")
  [[ $out == $'tool-from-target\n'"$tgt" ]] || fail "tcsh activation: $out"
fi
if command -v fish >/dev/null; then
  out=$(fish -c "set -gx PYTHONPATH /old; '$S' env tgt --shell fish | source; mytool; echo \$PYTHONPATH")
  [[ $out == $'tool-from-target\n'"$tgt /old" ]] || fail "fish activation: $out"
fi

# errors: a stack that is not installed names the node; exec needs '-- PROG'
expect_fail 1 "stack 'nothere' is not installed on $(hostname): nothing in '$ROOT/shmstack-$(id -u)' matches it" \
  "$S" exec nothere -- true
expect_fail 1 "cannot run 'no-such-program': not found in PATH" "$S" exec tgt -- no-such-program
expect_fail 2 "exec: missing '-- PROG \[ARGS...\]'" "$S" exec tgt
expect_fail 2 "unknown shell 'powershell'" "$S" env tgt --shell powershell
expect_fail 2 "pack: --set wants VAR=VALUE" "$S" pack "$T/tools" -o "$T/x.tar.lz4" --set novalue
expect_fail 1 "activation directory '../up'" "$S" pack "$T/tools" -o "$T/x.tar.lz4" --pythonpath ../up
echo "activation ok"
