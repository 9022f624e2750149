#!/bin/bash
# What an agent's generated script might try. Every line shows one layer.
echo "whoami:      $(id)"
echo "hostname:    $(hostname)"
echo "processes:   $(ls /proc | grep -c '^[0-9]')"
echo "network:     $(ip -o link 2>/dev/null | cut -d: -f2 | tr -d "\n")"
echo "home dirs:   $(ls /home /root 2>&1 | head -1)"
echo "shadow:      $(wc -c < /etc/shadow) bytes visible"
echo "write /usr:  $(touch /usr/pwned 2>&1 || true)"
echo "scratch:     $(echo ok > /tmp/scratch && cat /tmp/scratch)"
echo "capabilities: $(grep CapEff /proc/self/status)"
echo "seccomp:     $(grep Seccomp: /proc/self/status)"
if (echo > /dev/tcp/127.0.0.1/22) 2>/dev/null; then echo "tcp: open"; else echo "tcp:         refused"; fi
