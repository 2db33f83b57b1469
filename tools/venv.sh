#!/usr/bin/env bash
# Create .venv at the repository root with Python 3.12 and install the package
# (editable, with test extras). Re-running is cheap: installation is redone only
# when setup.py changes.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python312() {
    if command -v python3.12 >/dev/null 2>&1 && python3.12 -c 'import sys' >/dev/null 2>&1; then
        command -v python3.12
        return
    fi
    if command -v pyenv >/dev/null 2>&1; then
        local version
        version=$(pyenv versions --bare 2>/dev/null | grep -E '^3\.12(\.[0-9]+)?$' | sort -V | tail -n 1 || true)
        if [ -n "$version" ]; then
            PYENV_VERSION="$version" pyenv which python
            return
        fi
    fi
    return 1
}

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null; then
    if ! python=$(find_python312); then
        echo "error: Python 3.12 not found. Install it (e.g. 'apt-get install python3.12 python3.12-venv'" >&2
        echo "       or 'pyenv install 3.12') so that 'python3.12' or pyenv's 3.12 is available." >&2
        exit 1
    fi
    echo "Creating .venv with $python"
    rm -rf .venv
    "$python" -m venv .venv
fi

stamp=.venv/.installed-$(sha1sum setup.py | cut -c1-12)
if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".[test]"
    rm -f .venv/.installed-*
    touch "$stamp"
fi
