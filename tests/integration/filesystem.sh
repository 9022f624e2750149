#!/usr/bin/env bash
# Mount namespace + pivot_root: what is visible, what is writable.
. "$(dirname "$0")/lib.sh"

for d in /root /home /run /var /mnt /media /srv /opt /boot; do
	expect "$d is not visible" "$(run -- sh -c "test -e $d && echo visible || echo absent")" absent
done
for d in /usr /etc /; do
	expect "$d is read-only" "$(run -- sh -c "touch $d/airlock-probe 2>/dev/null && echo written || echo refused")" refused
done
expect "/etc/shadow is hidden (empty)" "$(run -- sh -c 'wc -c < /etc/shadow')" 0
expect "/etc/passwd is readable" "$(run -- sh -c 'grep -c ^nobody: /etc/passwd')" 1
expect "/workspace is writable" "$(run -- sh -c 'echo x > /workspace/f && cat /workspace/f')" x
expect "/tmp is writable" "$(run -- sh -c 'echo y > /tmp/f && cat /tmp/f')" y
expect "/tmp is noexec" "$(run -- sh -c 'cp /bin/true /tmp/t && /tmp/t 2>/dev/null; echo $?')" 126
expect_match "/tmp is nosuid,nodev,noexec" "$(run -- sh -c 'grep " /tmp " /proc/self/mounts')" 'nosuid,nodev,noexec'
out=$(run -- sh -c 'dd if=/dev/zero of=/workspace/big bs=1M count=400 2>&1; echo status=$?')
expect_match "the workspace tmpfs is size-limited" "$out" 'No space left on device'
printf 'filesystem: { tmp_size: 8M }\n' > "$TMP/tmp8.yaml"
out=$(run --policy "$TMP/tmp8.yaml" -- sh -c 'dd if=/dev/zero of=/tmp/big bs=1M count=100 2>&1')
expect_match "/tmp is size-limited" "$out" 'No space left on device'
expect "the workspace is wiped after the run" "$(run -- ls -A /workspace)" ""
expect "/dev holds only the minimal nodes" "$(run -- ls /dev | tr '\n' ' ')" "fd full null ptmx pts random shm stderr stdin stdout urandom zero "
expect "/dev/null works" "$(run -- sh -c 'echo gone > /dev/null && echo ok')" ok
expect "/sys is empty" "$(run -- ls -A /sys)" ""
# masked: absent on this kernel, or an empty read-only file over it
for f in kcore sysrq-trigger keys timer_list kallsyms; do
	expect "/proc/$f is masked" "$(run -- sh -c "exec 2>/dev/null; test -e /proc/$f || { echo masked; exit; }; test -s /proc/$f && echo readable || echo masked")" masked
done
expect "/proc/sys is read-only" "$(run -- sh -c 'exec 2>/dev/null; if echo x > /proc/sys/kernel/hostname; then echo written; else echo refused; fi')" refused
expect "/proc/sysrq-trigger cannot be opened for writing" "$(run -- sh -c 'exec 2>/dev/null; if true > /proc/sysrq-trigger; then echo opened; else echo refused; fi')" refused
mounts=$(run -- cat /proc/self/mountinfo)
check "no host /work, /root or /home path in mountinfo" eval '! grep -qE " /(root|home|work)(/| )" <<<"$mounts"'

# Host workspaces
mkdir -p "$TMP/proj/sub" && echo data > "$TMP/proj/in.txt"
echo 'API_KEY=sk-live-123' > "$TMP/proj/.env"
echo 'secret' > "$TMP/proj/sub/private.pem"
echo 'hidden-by-aiignore' > "$TMP/proj/notes.secret"
echo '*.secret' > "$TMP/proj/.aiignore"
chmod -R a+rwX "$TMP/proj"
expect "ro workspace is readable" "$(run --workspace "$TMP/proj:ro" -- cat /workspace/in.txt)" data
expect "ro workspace is not writable" "$(run --workspace "$TMP/proj:ro" -- sh -c 'touch /workspace/n 2>/dev/null && echo written || echo refused')" refused
expect "deny pattern hides .env" "$(run --workspace "$TMP/proj:ro" -- sh -c 'wc -c < /workspace/.env')" 0
expect "deny pattern hides *.pem in a subdir" "$(run --workspace "$TMP/proj:ro" -- sh -c 'wc -c < /workspace/sub/private.pem')" 0
expect ".aiignore patterns are hidden" "$(run --workspace "$TMP/proj:ro" -- sh -c 'wc -c < /workspace/notes.secret')" 0
run --workspace "$TMP/proj:rw" -- sh -c 'echo new > /workspace/out.txt'
expect "rw workspace keeps what the run wrote" "$(cat "$TMP/proj/out.txt" 2>/dev/null)" new
expect "files written belong to the invoking user" "$(stat -c %u "$TMP/proj/out.txt" 2>/dev/null)" "$(id -u)"
expect "rw workspace: the host file is intact" "$(cat "$TMP/proj/.env")" 'API_KEY=sk-live-123'
# A writable workspace cannot be used to defeat the deny list in a later run
mkdir -p "$TMP/rw/config" && echo 'db_password=hunter2' > "$TMP/rw/config/secrets.yml"
echo 'config/secrets.yml' > "$TMP/rw/.aiignore"
echo 'sk-live-999' > "$TMP/rw/real-key.txt" && ln -s real-key.txt "$TMP/rw/.env"
chmod -R a+rwX "$TMP/rw"
expect ".aiignore is read-only in a writable workspace" \
	"$(run --workspace "$TMP/rw:rw" -- sh -c 'exec 2>/dev/null; if echo > /workspace/.aiignore; then echo emptied; else echo refused; fi')" refused
expect "the directory above a hidden path cannot be renamed" \
	"$(run --workspace "$TMP/rw:rw" -- sh -c 'mv /workspace/config /workspace/cfg 2>/dev/null && echo renamed || echo refused')" refused
expect "anchored .aiignore pattern still hides the file" "$(run --workspace "$TMP/rw:rw" -- sh -c 'wc -c < /workspace/config/secrets.yml')" 0
expect "a denied symlink's target is hidden" "$(run --workspace "$TMP/rw:rw" -- sh -c 'wc -c < /workspace/.env')" 0
expect "the host's .aiignore is untouched" "$(cat "$TMP/rw/.aiignore")" 'config/secrets.yml'
mkdir -p "$TMP/deep" && (cd "$TMP/deep" && d=.; for i in $(seq 70); do d=$d/d; done; mkdir -p "$d")
chmod -R a+rwX "$TMP/deep"
expect "a tree too deep to check is refused (fail closed)" "$(rc --workspace "$TMP/deep:ro" -- true)" 125
mkdir -p "$TMP/locked/inner" && echo 'TOKEN=1' > "$TMP/locked/inner/.env"
chmod 0755 "$TMP/locked" "$TMP/locked/inner/.env"; chmod 0311 "$TMP/locked/inner"
# (as root the walk cannot list it and hides the directory; as its owner the
# walk can, and hides the .env inside: either way the token stays unseen)
out=$(run --workspace "$TMP/locked:ro" -- sh -c 'cat /workspace/inner/.env 2>/dev/null || echo hidden')
check "a directory that cannot be listed but can be entered hides its secrets ($out)" test "$out" = hidden -o -z "$out"
chmod 0755 "$TMP/locked/inner"

# gitignore semantics: ** across directories, patterns anchored to their .aiignore
mkdir -p "$TMP/gi/cfg/a/b" "$TMP/gi/sub"
echo s > "$TMP/gi/cfg/a/b/secrets.yaml"; echo s > "$TMP/gi/cfg/secrets.yaml"
echo p > "$TMP/gi/sub/private.txt"; echo p > "$TMP/gi/private.txt"
echo 'cfg/**/secrets.yaml' > "$TMP/gi/.aiignore"; echo '/private.txt' > "$TMP/gi/sub/.aiignore"
chmod -R a+rwX "$TMP/gi"
expect "'**' matches across directories" "$(run --workspace "$TMP/gi:ro" -- sh -c 'cat /workspace/cfg/a/b/secrets.yaml /workspace/cfg/secrets.yaml' | tr -d '\n')" ""
expect "an anchored pattern is relative to its .aiignore" "$(run --workspace "$TMP/gi:ro" -- sh -c 'cat /workspace/sub/private.txt; cat /workspace/private.txt')" p
mkdir -p "$TMP/gi/build[1]" && echo g > "$TMP/gi/build[1]/secret.txt" && echo '/secret.txt' > "$TMP/gi/build[1]/.aiignore"
echo t > "$TMP/gi/top-secret" && echo '/**/top-secret' >> "$TMP/gi/.aiignore"
chmod -R a+rwX "$TMP/gi"
expect "an anchored pattern under a directory named like a glob ('build[1]')" "$(run --workspace "$TMP/gi:ro" -- cat '/workspace/build[1]/secret.txt')" ""
expect "'/**/name' hides the name at the top too" "$(run --workspace "$TMP/gi:ro" -- cat /workspace/top-secret)" ""
# a mount source reached through a symlink inside a writable tree
mkdir -p "$TMP/lk2/ws" "$TMP/lk2/other" && ln -s ../other "$TMP/lk2/ws/lnk" && chmod -R a+rwX "$TMP/lk2"
expect "a mount source reached through a link in a writable tree is refused" "$(rc --workspace "$TMP/lk2/ws:rw" --mount "$TMP/lk2/ws/lnk:/data" -- true)" 125
# live host sockets in a mounted tree are hidden (a channel to a host service)
mkdir -p "$TMP/sock" && python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$TMP/sock/svc.sock"
chmod -R a+rwX "$TMP/sock"
expect "a host unix socket in the workspace is hidden" "$(run --workspace "$TMP/sock:ro" -- sh -c 'test -S /workspace/svc.sock && echo socket || echo hidden')" hidden
# a .aiignore a previous run turned into a link is refused, not followed
mkdir -p "$TMP/lnk" && ln -s /dev/zero "$TMP/lnk/.aiignore" && chmod -R a+rwX "$TMP/lnk"
expect "a symlinked .aiignore is refused (fail closed)" "$(rc --workspace "$TMP/lnk:ro" -- true)" 125
# a mount source inside a writable tree could be swapped for a symlink
mkdir -p "$TMP/nest/data" && chmod -R a+rwX "$TMP/nest"
out=$(run --workspace "$TMP/nest:rw" --mount "$TMP/nest/data:/data" -- true 2>&1); code=$?
expect "a mount source inside a writable workspace is refused" "$code" 125
expect_match "... and the error says why" "$out" "inside .* which the sandbox may write"
# across runs: a link one run planted in its writable workspace must not
# redirect a later run's workspace or mount of a path below it
mkdir -p "$TMP/plant/ws" "$TMP/plant/victim/in" && chmod -R a+rwX "$TMP/plant"
run --workspace "$TMP/plant/ws:rw" -- ln -s "$TMP/plant/victim" /workspace/sub
check "run 1 planted a link in its workspace" test -L "$TMP/plant/ws/sub"
out=$(run --workspace "$TMP/plant/ws/sub:rw" -- sh -c 'echo planted > /workspace/p' 2>&1); code=$?
expect "run 2: a workspace through the planted link is refused" "$code" 125
expect_match "... and the error names the link's target" "$out" "goes through a symbolic link.*leads to $TMP/plant/victim"
expect "... nothing was written at the link's target" "$(ls "$TMP/plant/victim")" in
expect "run 2: a mount below the planted link is refused" \
	"$(rc --mount "$TMP/plant/ws/sub/in:/data:ro" -- true)" 125
expect "a workspace given by its real path is fine" "$(run --workspace "$TMP/plant/victim:ro" -- ls /workspace)" in

mkdir -p "$TMP/extra" && echo e > "$TMP/extra/e.txt" && chmod -R a+rwX "$TMP/extra"
expect "--mount binds a host path read-only" "$(run --mount "$TMP/extra:/data" -- sh -c 'cat /data/e.txt; touch /data/x 2>/dev/null && echo written || echo refused' | tr '\n' ' ')" "e refused "

# An OS image as the root: a minimal one built from the host's dash and libc.
img=$TMP/img
mkdir -p "$img/bin" "$img/etc"
cp /bin/dash "$img/bin/sh"
for lib in $(ldd /bin/dash | grep -o '/[^ ]*'); do mkdir -p "$img$(dirname "$lib")"; cp "$lib" "$img$lib"; done
echo image-root > "$img/etc/marker"
chmod -R a+rX "$img"
printf 'filesystem:\n  root: %s\n' "$img" > "$TMP/img.yaml"
expect "filesystem.root runs from an image directory" \
	"$(run --policy "$TMP/img.yaml" -- /bin/sh -c 'read x < /etc/marker; echo $x')" image-root
expect "the image has no host /usr" "$(run --policy "$TMP/img.yaml" -- /bin/sh -c 'test -e /usr/bin/python3 && echo host || echo image')" image
done_testing
