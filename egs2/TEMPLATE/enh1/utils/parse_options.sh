#!/usr/bin/env bash
# Kaldi-style option parsing, sourced by a script after it has set its defaults.
#
#   --name value or --name=value sets the shell variable "name" (dashes in the
#   name become underscores). Only variables the script declared beforehand are
#   options; anything else is an error. --help prints "help_message" and each
#   declared option listed in "options" with its current (default) value.
#   Positional arguments are left in "$@".

_print_help() {
    echo "${help_message:-}"
    echo "Options (default in brackets):"
    local name
    for name in ${options:-}; do
        printf '  --%-22s [%s]\n' "$name" "${!name}"
    done
}

_positional=()
while [ $# -gt 0 ]; do
    case "$1" in
        --help|-h)
            _print_help
            exit 0
            ;;
        --*=*)
            _name=${1%%=*}; _value=${1#*=}; shift
            ;;
        --*)
            if [ $# -lt 2 ]; then
                echo "error: option $1 needs a value (see --help)" >&2
                exit 2
            fi
            _name=$1; _value=$2; shift 2
            ;;
        *)
            _positional+=("$1"); shift
            continue
            ;;
    esac
    _name=${_name#--}
    _name=${_name//-/_}
    if [[ ! "$_name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || [[ " ${options:-} " != *" $_name "* ]]; then
        echo "error: unknown option --${_name} (see --help for the list)" >&2
        exit 2
    fi
    printf -v "$_name" '%s' "$_value"
done
set -- "${_positional[@]+"${_positional[@]}"}"
unset _name _value _positional
