#!/usr/bin/env bash
# Copy-out through the real binary: files and trees come out of the sandbox
# into a host directory, through the output gate (secrets redacted, caps with
# a marker); symlinks are not followed on either side, nothing is
# overwritten, and paths outside /workspace and /tmp are refused up front.
. "$(dirname "$0")/lib.sh"

AWS=AKIAIOSFODNN7EXAMPLE
KEY=sk-proj-Zq8xV2mN4pR7tL1wK9sD3fH6jB0cY5eA
export OPENAI_API_KEY=$KEY

# a file and a tree, from /workspace and /tmp
D=$TMP/out1
run -q --copy-out /workspace/a.txt --copy-out /workspace/tree --copy-out /tmp/t.txt --copy-to "$D" \
	--report "$TMP/r1.json" -- sh -c '
echo hello > a.txt
mkdir -p tree/sub/deeper tree/empty
echo one > tree/one
printf "two\nlines\n" > tree/sub/deeper/two
echo tmp > /tmp/t.txt' 2> "$TMP/sb.err"
expect "the run exits with the command's code" "$?" 0
expect "a file comes out with its content" "$(cat "$D/a.txt")" "hello"
expect "a tree comes out whole" "$(cat "$D/tree/one") $(cat "$D/tree/sub/deeper/two" | tr '\n' ' ')" "one two lines "
expect "an empty directory comes out too" "$(test -d "$D/tree/empty" && echo yes)" yes
expect "a /tmp path keeps its path below /tmp" "$(cat "$D/t.txt")" "tmp"
expect "files are 0600, directories 0700" "$(stat -c %a "$D/a.txt") $(stat -c %a "$D/tree/sub")" "600 700"
expect "the report counts them" "$(json "$TMP/r1.json" 'r["copy_out"]["files"], r["copy_out"]["bytes"], r["copy_out"]["errors"]')" \
	"4 24 0"
expect "the run's exit code is the command's, copy-out or not" \
	"$(rc --copy-out /workspace/f --copy-to "$TMP/out1b" -- sh -c 'echo x > f; exit 3')" 3

# secrets inside a copied file: redacted with secret scanning
P=$TMP/gate.yaml
cat > "$P" <<YAML
output:
  secret_scanning: true
  copy_out: [/workspace/s.txt]
  copy_to: out2
YAML
run -q --policy "$P" -e OPENAI_API_KEY --report "$TMP/r2.json" -- sh -c "
echo 'aws: $AWS' > s.txt
echo \"env: \$OPENAI_API_KEY\" >> s.txt
echo 'plain text' >> s.txt" 2> "$TMP/sb.err"
D=$TMP/out2 # copy_to is relative to the policy file
expect "the AWS key does not come out" "$(grep -c "$AWS" "$D/s.txt")" 0
expect "the -e secret does not come out" "$(grep -c "$KEY" "$D/s.txt")" 0
expect "markers stand in their place" "$(head -n 2 "$D/s.txt" | tr '\n' ' ')" \
	"aws: [REDACTED:aws_access_key] env: [REDACTED:literal] "
expect "the rest passes untouched" "$(tail -n 1 "$D/s.txt")" "plain text"
expect "the report counts the redactions" "$(json "$TMP/r2.json" 'r["copy_out"]["redactions"]')" 2

# without scanning the file comes out as it is
D=$TMP/out3
run -q --copy-out /workspace/s.txt --copy-to "$D" -- sh -c "echo 'aws: $AWS' > s.txt" 2> "$TMP/sb.err"
expect "no gate, no change" "$(cat "$D/s.txt")" "aws: $AWS"

# symlinks are not followed: inside a tree skipped, asked for directly an error
D=$TMP/out4
run -q --copy-out /workspace/d --copy-to "$D" --report "$TMP/r4.json" -- sh -c '
mkdir d; echo ok > d/real; ln -s /etc/passwd d/passwd; ln -s real d/rel' 2> "$TMP/l.err"
expect "a tree with symlinks still exits 0" "$?" 0
expect "the symlinks are not copied" "$(ls -A "$D/d" | tr '\n' ' ')" "real "
expect "... reported on stderr" "$(grep -c 'skipped 2 entries' "$TMP/l.err")" 1
expect "... and counted in the report" "$(json "$TMP/r4.json" 'r["copy_out"]["skipped"], r["copy_out"]["files"]')" "2 1"
D=$TMP/out5
code=$(rc --copy-out /workspace/passwd --copy-to "$D" -- ln -s /etc/passwd passwd)
expect "a symlink asked for directly is an error (125)" "$code" 125
expect "... and nothing comes out" "$(ls -A "$D" 2>/dev/null | wc -l)" 0
code=$(rc --copy-out /workspace/l/passwd --copy-to "$D" -- ln -s /etc l)
expect "a symlink on the way is not followed either" "$code" 125
expect "... nothing comes out" "$(ls -A "$D" 2>/dev/null | wc -l)" 0

# a path that does not exist: error after the run, the rest still copied
D=$TMP/out6
run -q --copy-out /workspace/missing --copy-out /workspace/there --copy-to "$D" -- sh -c 'echo t > there' 2> "$TMP/m.err"
expect "a missing path makes the run exit 125" "$?" 125
expect "... it is named" "$(grep -c '/workspace/missing: No such file or directory' "$TMP/m.err")" 1
expect "... what exists is copied" "$(cat "$D/there")" "t"

# outside /workspace and /tmp, relative, '..': refused before the run
for p in /etc/passwd workspace/a /workspace/../etc/passwd; do
	err=$(run -q --copy-out "$p" --copy-to "$TMP/out7" -- touch "$TMP/ran" 2>&1)
	expect "'$p' is refused with 125" "$?" 125
	expect_match "... naming --copy-out" "$err" '^airlock: --copy-out: output.copy_out: '
done
expect "... before anything ran" "$(test -e "$TMP/ran" || echo no)" no
expect "--copy-out needs --copy-to" "$(rc --copy-out /workspace/a -- true)" 125

# an existing file on the host is not overwritten, nor a symlink followed
D=$TMP/out8
mkdir -p "$D"
echo original > "$D/a.txt"
ln -s "$TMP/victim" "$D/b.txt"
mkdir -p "$D/sub" && ln -s "$TMP" "$D/dir"
code=$(rc --copy-out /workspace/a.txt --copy-out /workspace/b.txt --copy-out /workspace/dir/c --copy-to "$D" \
	-- sh -c 'echo new > a.txt; echo new > b.txt; mkdir dir; echo new > dir/c')
expect "an existing destination is an error (125)" "$code" 125
expect "... the file is not overwritten" "$(cat "$D/a.txt")" original
expect "... a symlink there is not followed" "$(test -e "$TMP/victim" || echo no)" no
expect "... nor a symlinked directory" "$(test -e "$TMP/c" || echo no)" no

# output.max_bytes truncates a file, with the marker
C=$TMP/cap.yaml
printf 'output: {max_bytes: 1000, copy_out: [/workspace/big, /workspace/small], copy_to: out9}\n' > "$C"
run -q --policy "$C" --report "$TMP/r9.json" -- sh -c 'yes | head -c 50000 > big; echo s > small' 2> "$TMP/sb.err"
expect "a capped file still exits 0" "$?" 0
D=$TMP/out9
expect "the file is cut at max_bytes, then the marker" \
	"$(head -c 1000 "$D/big" | tr -d 'y\n' | wc -c) $(tail -n 1 "$D/big")" \
	"0 [airlock: file truncated after 1000 bytes (output.max_bytes)]"
expect "... and nothing more" "$(wc -c < "$D/big")" 1063
expect "a small file is whole" "$(cat "$D/small")" s
expect "the report counts the truncation" "$(json "$TMP/r9.json" 'r["copy_out"]["truncated"], r["copy_out"]["files"]')" "1 2"

# without copy-out, no copy_out object in the report
run -q --report "$TMP/r10.json" -- true
expect "no copy-out, no report entry" "$(json "$TMP/r10.json" '"copy_out" in r')" False

# the destination is held from before the command runs, and may not lie in
# a tree the sandbox writes: no link planted there redirects the copy
W=$TMP/rw && mkdir -p "$W" && chmod 777 "$W"
run -q --workspace "$W:rw" --copy-out /workspace/x --copy-to "$W/results" -- sh -c 'echo x > x' 2> "$TMP/in.err"
expect "copy_to inside a read-write workspace is refused before the run" "$?" 125
expect_match "... saying why" "$(cat "$TMP/in.err")" 'lies in a directory the sandbox may write'
T2=$TMP/target && mkdir -p "$T2"
run -q --copy-out /workspace/x --copy-to "$TMP/out11" -- sh -c 'echo x > x' > /dev/null 2>&1
expect "an ordinary destination still works" "$(cat "$TMP/out11/x")" x
expect "nothing reached the would-be link target" "$(ls -A "$T2" | wc -l)" 0

# names are data from the sandbox too: control characters and secrets stay out
D=$TMP/out12
printf 'output:\n  secret_scanning: true\n' > "$TMP/names.yaml"
run -q --policy "$TMP/names.yaml" -e OPENAI_API_KEY --copy-out /workspace/n --copy-to "$D" -- sh -c '
mkdir n; echo a > n/ok; echo b > "n/$(printf "\033[2Jfake")"; echo c > "n/k-$OPENAI_API_KEY"' 2> "$TMP/n.err"
expect "names with control characters or secrets are refused (125)" "$?" 125
expect "... the ordinary one comes out" "$(cat "$D/n/ok" 2>/dev/null)" a
expect "... neither bad name is on the host" "$(ls "$D/n" | wc -l)" 1
expect "... and no escape character reached the terminal" "$(grep -c $'\033' "$TMP/n.err")" 0
expect "... nor the secret" "$(grep -c "$KEY" "$TMP/n.err")" 0

done_testing
