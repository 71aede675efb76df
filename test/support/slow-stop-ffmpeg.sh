#!/bin/sh
# Debian's ffmpeg, acting on the SIGINT that ends a recording only 6 s after it came: a recording
# whose stop is slow (a loaded machine finishing its files), for tests of who waits for a stop.
/usr/bin/ffmpeg "$@" &
child=$!
trap 'sleep 6; kill -INT "$child"' INT
trap 'kill -TERM "$child"' TERM
# `wait` returns early when a trap ran: wait until ffmpeg itself has ended
while :; do
  wait "$child"
  status=$?
  kill -0 "$child" 2>/dev/null || break
done
exit "$status"
