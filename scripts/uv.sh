# Sourced by setup.sh and upgrade.sh: sets UV to the pinned uv (installed with pip if absent).
UV_VERSION="0.13.9"
if uv --version 2>/dev/null | grep -qx "uv $UV_VERSION.*"; then
  UV=(uv)
else
  python3 -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
  UV=(python3 -m uv)
fi
