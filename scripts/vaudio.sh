#!/usr/bin/env bash
# vaudio.sh - a private PulseAudio server with a virtual microphone and speaker, for voicecli's
# device tests and benchmarks (headless machines, CI containers, root is fine).
#
# PortAudio (Debian's libportaudio2 has no native Pulse backend) opens ALSA "default", which
# the ALSA pulse plugin (libasound2-plugins) routes to this server when PULSE_SERVER points
# at its socket. Devices inside the server:
#   spk        null sink, the default output: what voicecli plays. Tests record spk.monitor.
#   micfeed    null sink: what tests play here comes out of the microphone.
#   mic        remap of micfeed.monitor, the default input: what voicecli captures.
#   tick       null sink fed by two loopbacks (mic, spk.monitor): keeps both null sinks
#              clocked at a small latency, otherwise an idle null sink renders 2 s blocks
#              and a newly opened stream stalls for up to 2 s.
#
# usage: vaudio.sh start | stop | status | env
#        vaudio.sh play-into-mic FILE          plays FILE (wav/flac/ogg) into the mic, blocks
#        vaudio.sh tone-into-mic HZ SECONDS    a sine into the mic, blocks
#        vaudio.sh record-speaker OUT.wav [SECONDS]   no SECONDS: until SIGINT/SIGTERM
#        vaudio.sh wait-mic-open [TIMEOUT_S]  returns once a client captures from the mic
#        vaudio.sh loopback on [LATENCY_MS] | off     speaker -> mic (acoustic echo)
# env:   VAUDIO_DIR (/tmp/voicecli-vaudio): state, log and socket; one server per directory
#        VAUDIO_REC_RATE (48000), VAUDIO_REC_CHANNELS (1): format of record-speaker
set -euo pipefail

DIR="${VAUDIO_DIR:-/tmp/voicecli-vaudio}"
SOCKET="$DIR/native"
RUNTIME="$DIR/xdg-runtime"
PA_CONF="$DIR/server.pa"
PA_LOG="$DIR/server.log"
LOOP_ID="$DIR/loopback.id"
export PULSE_SERVER="unix:$SOCKET"

say() { printf 'vaudio: %s\n' "$*" >&2; }
fail() { say "error: $*"; exit 1; }

require_tools() {
  local t missing=()
  for t in pulseaudio pactl paplay parecord; do command -v "$t" >/dev/null || missing+=("$t"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  fail "missing ${missing[*]}: run 'make testdeps' (apt: pulseaudio pulseaudio-utils libasound2-plugins)"
}

server_pid() {  # pid of the server that owns $DIR, if it is alive
  local f="$RUNTIME/pulse/pid" pid state
  pid=$({ tr -cd '0-9' <"$f"; } 2>/dev/null) || return 1
  [ -n "$pid" ] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = pulseaudio ] || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  case "$state" in Z|X|"") return 1 ;; esac
  echo "$pid"
}

ready() {  # server alive, answering, and all our devices present
  server_pid >/dev/null || return 1
  local sinks sources
  sinks=$(timeout 5 pactl list short sinks 2>/dev/null) || return 1
  sources=$(timeout 5 pactl list short sources 2>/dev/null) || return 1
  awk '$2=="spk"{a=1} $2=="micfeed"{b=1} END{exit !(a&&b)}' <<<"$sinks" \
    && awk '$2=="mic"{f=1} END{exit !f}' <<<"$sources"
}

need_ready() { ready || fail "not running (start it with: $0 start)"; }

make_conf() {
  # norewinds: without it, a stream starting or ending makes the sink rewind and the monitor
  # recording loses its first 10-20 ms. 25 ms loopbacks keep the sinks ticking.
  {
    echo "load-module module-native-protocol-unix socket=$SOCKET auth-anonymous=1"
    echo "load-module module-null-sink sink_name=spk rate=48000 channels=2 norewinds=1" \
      "sink_properties=device.description=voicecli_speaker"
    echo "load-module module-null-sink sink_name=micfeed rate=48000 channels=1 norewinds=1" \
      "sink_properties=device.description=voicecli_mic_feed"
    echo "load-module module-remap-source source_name=mic master=micfeed.monitor channels=1" \
      "channel_map=mono source_properties=device.description=voicecli_mic"
    echo "load-module module-null-sink sink_name=tick rate=48000 channels=1" \
      "sink_properties=device.description=voicecli_clock"
    for src in mic spk.monitor; do
      echo "load-module module-loopback source=$src sink=tick latency_msec=25" \
        "source_dont_move=true sink_dont_move=true"
    done
    echo "set-default-sink spk"
    echo "set-default-source mic"
  } >"$PA_CONF"
}

cmd_start() {
  require_tools
  mkdir -p "$DIR"
  if ready; then
    say "already running (pid $(server_pid))"
    echo "export PULSE_SERVER=$PULSE_SERVER"
    return 0
  fi
  server_pid >/dev/null && cmd_stop
  rm -rf "$RUNTIME" "$SOCKET" "$LOOP_ID"
  mkdir -p "$RUNTIME" "$DIR/home" "$DIR/config"
  chmod 700 "$RUNTIME"
  make_conf
  : >"$PA_LOG"
  # A private HOME and XDG dirs: a desktop session's own server is never touched.
  env -u PULSE_SERVER HOME="$DIR/home" XDG_RUNTIME_DIR="$RUNTIME" XDG_CONFIG_HOME="$DIR/config" \
    DBUS_SESSION_BUS_ADDRESS=disabled: \
    pulseaudio --daemonize=yes --system=no -n --file="$PA_CONF" --exit-idle-time=-1 \
    --use-pid-file=yes --log-target=file:"$PA_LOG" --log-level=notice \
    </dev/null >/dev/null 2>>"$PA_LOG" || { tail -n 15 "$PA_LOG" >&2; fail "pulseaudio did not start"; }
  local i
  for i in $(seq 1 100); do ready && break; sleep 0.1; done
  ready || { tail -n 15 "$PA_LOG" >&2; fail "server started but devices are missing (log: $PA_LOG)"; }
  say "running (pid $(server_pid)), socket $SOCKET"
  echo "export PULSE_SERVER=$PULSE_SERVER"
}

cmd_stop() {
  local pid i
  if pid=$(server_pid); then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do server_pid >/dev/null || break; sleep 0.1; done
    server_pid >/dev/null && kill -KILL "$pid" 2>/dev/null || true
    say "stopped (pid $pid)"
  else
    say "not running"
  fi
  rm -rf "$RUNTIME" "$SOCKET" "$LOOP_ID"
}

cmd_status() {
  if ready; then
    echo "running (pid $(server_pid)); PULSE_SERVER=$PULSE_SERVER"
    pactl list short sinks
    pactl list short sources
  else
    echo "not running"
    return 3
  fi
}

cmd_play_into_mic() {
  [ $# -eq 1 ] || fail "usage: play-into-mic FILE"
  [ -r "$1" ] || fail "cannot read $1"
  need_ready
  exec paplay --device=micfeed "$1"
}

cmd_tone_into_mic() {
  [ $# -eq 2 ] || fail "usage: tone-into-mic HZ SECONDS"
  need_ready
  command -v sox >/dev/null || fail "tone-into-mic needs sox (make testdeps)"
  local wav; wav=$(mktemp --suffix=.wav)
  trap 'rm -f "$wav"' RETURN
  sox -n -r 48000 -c 1 -b 16 "$wav" synth "$2" sine "$1" vol 0.5 fade 0.005 "$2" 0.005
  paplay --device=micfeed "$wav"
}

cmd_record_speaker() {
  [ $# -ge 1 ] && [ $# -le 2 ] || fail "usage: record-speaker OUT.wav [SECONDS]"
  need_ready
  local args=(parecord --device=spk.monitor --file-format=wav --format=s16le
    --rate="${VAUDIO_REC_RATE:-48000}" --channels="${VAUDIO_REC_CHANNELS:-1}" --latency-msec=20 "$1")
  if [ $# -eq 1 ]; then
    exec "${args[@]}"  # SIGINT/SIGTERM reach parecord, which finishes the WAV header
  fi
  local rc=0
  timeout --signal=INT "$2" "${args[@]}" || rc=$?
  [ $rc -eq 0 ] || [ $rc -eq 124 ] || fail "parecord failed ($rc)"
}

cmd_wait_mic_open() {
  need_ready
  local limit=${1:-10} idx deadline
  idx=$(pactl list short sources | awk '$2=="mic"{print $1}')
  deadline=$((SECONDS + limit))
  # Our own loopbacks are module-loopback outputs; a client shows as protocol-native.
  while [ $SECONDS -lt "$deadline" ]; do
    if pactl list short source-outputs \
      | awk -v s="$idx" '$2==s && $4 ~ /protocol-native/ {f=1} END{exit !f}'; then
      return 0
    fi
    sleep 0.05
  done
  fail "nothing opened the microphone within ${limit} s"
}

cmd_loopback() {
  need_ready
  case "${1:-}" in
    on)
      [ -s "$LOOP_ID" ] && { say "loopback already on"; return 0; }
      pactl load-module module-loopback source=spk.monitor sink=micfeed \
        latency_msec="${2:-40}" source_dont_move=true sink_dont_move=true >"$LOOP_ID"
      say "speaker -> mic loopback on (module $(cat "$LOOP_ID"))"
      ;;
    off)
      if [ -s "$LOOP_ID" ]; then
        pactl unload-module "$(cat "$LOOP_ID")" || true
        rm -f "$LOOP_ID"
      fi
      say "speaker -> mic loopback off"
      ;;
    *) fail "usage: loopback on [LATENCY_MS] | off" ;;
  esac
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) echo "export PULSE_SERVER=$PULSE_SERVER" ;;
  play-into-mic) shift; cmd_play_into_mic "$@" ;;
  tone-into-mic) shift; cmd_tone_into_mic "$@" ;;
  record-speaker) shift; cmd_record_speaker "$@" ;;
  wait-mic-open) shift; cmd_wait_mic_open "$@" ;;
  loopback) shift; cmd_loopback "$@" ;;
  ""|-h|--help|help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) say "unknown command: $1"; exit 2 ;;
esac
