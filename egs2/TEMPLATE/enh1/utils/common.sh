#!/usr/bin/env bash
# Logging and stage helpers shared by the recipes.

log() {
    echo "$(date '+%Y-%m-%dT%H:%M:%S') $*" >&2
}

die() {
    log "error: $*"
    exit 1
}

# check_int NAME VALUE MIN: VALUE must be an integer >= MIN.
check_int() {
    [[ "$2" =~ ^-?[0-9]+$ ]] && [ "$2" -ge "$3" ] || {
        echo "error: --$1 must be an integer >= $3, got '$2'" >&2
        exit 2
    }
}

# run_logged LOGFILE CMD...: run CMD with its output in LOGFILE (and on screen);
# on failure print where the log is and exit non-zero.
run_logged() {
    local logfile=$1; shift
    mkdir -p "$(dirname "$logfile")"
    log "running: $* (log: $logfile)"
    if ! "$@" 2>&1 | tee "$logfile"; then
        die "failed; see the log: $logfile"
    fi
}

# in_stage N TITLE: true (and announce the stage) if N is within --stage .. --stop_stage.
in_stage() {
    [ "$1" -ge "$stage" ] && [ "$1" -le "$stop_stage" ] || return 1
    log "Stage $1: $2"
}

# already_prepared STAMP WHAT: true (and says so) if the done-stamp STAMP exists; otherwise
# removes the other stamps beside it, so that a half-done run is never taken for a done one.
already_prepared() {
    if [ -f "$1" ]; then
        log "$2 already prepared ($1)"
        return 0
    fi
    rm -f "$(dirname "$1")"/.done_*
    return 1
}

# hold_run_lock VAR FILE HOLDER: lock FILE (created if missing) until this script and every child that
# inherited the descriptor have ended, even if killed (espnet2_tisdiss/fileio/run_lock.py); HOLDER
# describes this run to a refused one. The descriptor goes into VAR (release early: exec {VAR}>&-).
# If another run holds FILE, stop with a message naming its folder and that run's PID and host.
hold_run_lock() {
    local fd
    mkdir -p "$(dirname "$2")"
    exec {fd}>>"$2"
    if ! "${python:-python}" -m espnet2_tisdiss.fileio.run_lock --fd "$fd" --path="$2" --pid "$$" \
            --command="$3"; then
        exit 1
    fi
    printf -v "$1" '%s' "$fd"
}
